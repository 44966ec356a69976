# throughput plot of seed, made by scripts/plot.py
set terminal svg size 1100,712 dynamic enhanced font "DejaVu Sans,12" background "#ffffff"
set output "results/reference/seed-20261122-010058/plots/throughput.svg"
# Shared look of every c10k-bench plot (included by plots.py before each plot's template).
set encoding utf8
set datafile missing "?"
set datafile separator whitespace
set border lw 1.2
set grid xtics ytics mxtics mytics lt 1 lc rgb "#cfcfcf" lw 1, lt 1 lc rgb "#ececec" lw 0.6
# The legend goes below the plot, outside it, in columns (plots.py sets how many): it covers
# neither the data nor the title, however many series there are.
set key outside below center horizontal Left reverse noenhanced box lc rgb "#bbbbbb" spacing 1.1 samplen 3 height 0.6
set tics nomirror out
set mxtics 10
set lmargin 12
set rmargin 4
set pointsize 1.1
set autoscale noextend  # the data decides the range, not the next decade
set offsets 0, 0, graph 0.06, graph 0.06  # lines at the edge of the range stay visible

# 1. Throughput vs concurrency, one line per series, with Little's law ideal C/D (and the CPU
# ceiling when requests cost CPU). Log-log: blocking's flat 1/D and the ideal's slope 1 both show.
set title "seed: throughput vs concurrency (delay 3 s, new connection per request)" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "throughput, requests/s (log scale)"
set logscale xy
set format y "%g"

set key maxcols 3 at screen 0.5, 0.008426966292134831 center bottom
set bmargin at screen 0.20646067415730338
set tmargin 2
set xrange [3.3333333333333335:7.5]
set xtics ("5" 5)
set yrange [0.3026222772673557:1.8356471071500717]
set ytics ("0.5" 0.5, "0.7" 0.7, "1" 1.0)
plot "results/reference/seed-20261122-010058/plots/blocking.dat" using 1:($2 > 0 ? $2 : 1/0):($3 > 0 ? $3 : 1/0):($4 > 0 ? $4 : 1/0) with yerrorlines lc rgb "#d62728" dt 1 pt 7 ps 1.80 lw 2 title "blocking", \
     "results/reference/seed-20261122-010058/plots/threaded.dat" using 1:($2 > 0 ? $2 : 1/0):($3 > 0 ? $3 : 1/0):($4 > 0 ? $4 : 1/0) with yerrorlines lc rgb "#ff7f0e" dt 1 pt 5 ps 1.47 lw 2 title "threaded", \
     "results/reference/seed-20261122-010058/plots/select.dat" using 1:($2 > 0 ? $2 : 1/0):($3 > 0 ? $3 : 1/0):($4 > 0 ? $4 : 1/0) with yerrorlines lc rgb "#9467bd" dt 1 pt 13 ps 1.13 lw 2 title "select", \
     "results/reference/seed-20261122-010058/plots/epoll.dat" using 1:($2 > 0 ? $2 : 1/0):($3 > 0 ? $3 : 1/0):($4 > 0 ? $4 : 1/0) with yerrorlines lc rgb "#1f77b4" dt 1 pt 13 ps 0.80 lw 2 title "epoll", \
     x / 3.0 with lines lc rgb '#000000' dt 2 lw 1.5 title "ideal C/D (D = 3 s)"
unset output
