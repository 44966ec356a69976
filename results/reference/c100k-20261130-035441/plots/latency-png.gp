# latency plot of c100k, made by scripts/plot.py
set terminal pngcairo size 1100,754 enhanced font "DejaVu Sans,12" background "#ffffff"
set output "results/reference/c100k-20261130-035441/plots/latency.png"
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
set title "c100k: latency of 2xx responses (p50 solid, p99 dashed) vs concurrency (delay 10 s, keep-alive)" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "latency per request, ms (log scale)"
set logscale xy
set format y "%g"

set key maxcols 3 at screen 0.5, 0.007957559681697613 center bottom
set bmargin at screen 0.2506631299734748
set tmargin 2
set xrange [666.6666666666666:150000.0]
set xtics ("1,000" 1000, "3,000" 3000, "10,000" 10000, "30,000" 30000, "100,000" 100000)
set yrange [9259.25925925926:18756.402120000002]
set ytics ("10000" 10000.0, "12000" 12000.0, "14000" 14000.0, "16000" 16000.0, "18000" 18000.0)
plot "results/reference/c100k-20261130-035441/plots/epoll.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#1f77b4" dt 1 pt 13 ps 1.80 lw 2 title "epoll p50", \
     "results/reference/c100k-20261130-035441/plots/epoll.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#1f77b4" dt 2 pt 12 ps 1.80 lw 1.5 title "epoll p99", \
     "results/reference/c100k-20261130-035441/plots/threaded.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#ff7f0e" dt 1 pt 5 ps 1.55 lw 2 title "threaded p50", \
     "results/reference/c100k-20261130-035441/plots/threaded.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#ff7f0e" dt 2 pt 4 ps 1.55 lw 1.5 title "threaded p99", \
     "results/reference/c100k-20261130-035441/plots/forking.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#8c564b" dt 1 pt 5 ps 1.30 lw 2 title "forking p50", \
     "results/reference/c100k-20261130-035441/plots/forking.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#8c564b" dt 2 pt 4 ps 1.30 lw 1.5 title "forking p99", \
     "results/reference/c100k-20261130-035441/plots/select.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#9467bd" dt 1 pt 13 ps 1.05 lw 2 title "select p50", \
     "results/reference/c100k-20261130-035441/plots/select.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#9467bd" dt 2 pt 12 ps 1.05 lw 1.5 title "select p99", \
     "results/reference/c100k-20261130-035441/plots/reuseport.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#393b79" dt 1 pt 13 ps 0.80 lw 2 title "reuseport p50", \
     "results/reference/c100k-20261130-035441/plots/reuseport.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#393b79" dt 2 pt 12 ps 0.80 lw 1.5 title "reuseport p99", \
     10000.0 with lines lc rgb '#000000' dt 2 lw 1.5 title "ideal: D = 10000 ms"
unset output
