# latency plot of seed, made by scripts/plot.py
set terminal pngcairo size 1100,733 enhanced font "DejaVu Sans,12" background "#ffffff"
set output "results/reference/seed-20261122-010058/plots/latency.png"
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

# 2. Latency p50 (solid) and p99 (dashed) vs concurrency, log-log; D is the ideal.
set title "seed: latency of 2xx responses (p50 solid, p99 dashed) vs concurrency (delay 3 s, new connection per request)" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "latency per request, ms (log scale)"
set logscale xy
set format y "%g"

set key maxcols 3 at screen 0.5, 0.008185538881309686 center bottom
set bmargin at screen 0.2291950886766712
set tmargin 2
set xrange [3.3333333333333335:7.5]
set xtics ("5" 5)
set yrange [2723.8358943833928:16522.16056510544]
set ytics ("3000" 3000.0, "5000" 5000.0, "7000" 7000.0, "10000" 10000.0)
plot "results/reference/seed-20261122-010058/plots/blocking.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#d62728" dt 1 pt 7 ps 1.80 lw 2 title "blocking p50", \
     "results/reference/seed-20261122-010058/plots/blocking.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#d62728" dt 2 pt 6 ps 1.80 lw 1.5 title "blocking p99", \
     "results/reference/seed-20261122-010058/plots/threaded.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#ff7f0e" dt 1 pt 5 ps 1.47 lw 2 title "threaded p50", \
     "results/reference/seed-20261122-010058/plots/threaded.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#ff7f0e" dt 2 pt 4 ps 1.47 lw 1.5 title "threaded p99", \
     "results/reference/seed-20261122-010058/plots/select.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#9467bd" dt 1 pt 13 ps 1.13 lw 2 title "select p50", \
     "results/reference/seed-20261122-010058/plots/select.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#9467bd" dt 2 pt 12 ps 1.13 lw 1.5 title "select p99", \
     "results/reference/seed-20261122-010058/plots/epoll.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#1f77b4" dt 1 pt 13 ps 0.80 lw 2 title "epoll p50", \
     "results/reference/seed-20261122-010058/plots/epoll.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#1f77b4" dt 2 pt 12 ps 0.80 lw 1.5 title "epoll p99", \
     3000.0 with lines lc rgb '#000000' dt 2 lw 1.5 title "ideal: D = 3000 ms"
unset output
