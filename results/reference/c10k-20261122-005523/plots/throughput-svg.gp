# throughput plot of c10k, made by scripts/plot.py
set terminal svg size 1100,733 dynamic enhanced font "DejaVu Sans,12" background "#ffffff"
set output "results/reference/c10k-20261122-005523/plots/throughput.svg"
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
set title "c10k: throughput vs concurrency (delay 1 s, keep-alive)" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "throughput, requests/s (log scale)"
set logscale xy
set format y "%g"

set key maxcols 3 at screen 0.5, 0.008185538881309686 center bottom
set bmargin at screen 0.2291950886766712
set tmargin 2
set xrange [0.6666666666666666:15000.0]
set xtics ("1" 1, "10" 10, "100" 100, "1,000" 1000, "3,000" 3000, "10,000" 10000)
set yrange [0.5754399373371569:17378.008287493754]
set ytics ("1" 1.0, "10" 10.0, "100" 100.0, "1000" 1000.0, "10000" 10000.0)
plot "results/reference/c10k-20261122-005523/plots/blocking.dat" using 1:($2 > 0 ? $2 : 1/0):($3 > 0 ? $3 : 1/0):($4 > 0 ? $4 : 1/0) with yerrorlines lc rgb "#d62728" dt 1 pt 7 ps 1.80 lw 2 title "blocking", \
     "results/reference/c10k-20261122-005523/plots/threaded.dat" using 1:($2 > 0 ? $2 : 1/0):($3 > 0 ? $3 : 1/0):($4 > 0 ? $4 : 1/0) with yerrorlines lc rgb "#ff7f0e" dt 1 pt 5 ps 1.60 lw 2 title "threaded", \
     "results/reference/c10k-20261122-005523/plots/forking.dat" using 1:($2 > 0 ? $2 : 1/0):($3 > 0 ? $3 : 1/0):($4 > 0 ? $4 : 1/0) with yerrorlines lc rgb "#8c564b" dt 1 pt 5 ps 1.40 lw 2 title "forking", \
     "results/reference/c10k-20261122-005523/plots/select.dat" using 1:($2 > 0 ? $2 : 1/0):($3 > 0 ? $3 : 1/0):($4 > 0 ? $4 : 1/0) with yerrorlines lc rgb "#9467bd" dt 1 pt 13 ps 1.20 lw 2 title "select", \
     "results/reference/c10k-20261122-005523/plots/epoll.dat" using 1:($2 > 0 ? $2 : 1/0):($3 > 0 ? $3 : 1/0):($4 > 0 ? $4 : 1/0) with yerrorlines lc rgb "#1f77b4" dt 1 pt 13 ps 1.00 lw 2 title "epoll", \
     "results/reference/c10k-20261122-005523/plots/libuv.dat" using 1:($2 > 0 ? $2 : 1/0):($3 > 0 ? $3 : 1/0):($4 > 0 ? $4 : 1/0) with yerrorlines lc rgb "#2ca02c" dt 1 pt 13 ps 0.80 lw 2 title "libuv", \
     x / 1.0 with lines lc rgb '#000000' dt 2 lw 1.5 title "ideal C/D (D = 1 s)"
unset output
