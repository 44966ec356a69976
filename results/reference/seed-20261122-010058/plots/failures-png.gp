# failures plot of seed, made by scripts/plot.py
set terminal pngcairo size 1100,640 enhanced font "DejaVu Sans,12" background "#ffffff"
set output "/tmp/s2/ref/seed-20261122-010058/plots/failures.png"
# Shared look of every c10k-bench plot (included by plots.py before each plot's template).
set encoding utf8
set datafile missing "?"
set datafile separator whitespace
set border lw 1.2
set grid xtics ytics mxtics mytics lt 1 lc rgb "#cfcfcf" lw 1, lt 1 lc rgb "#ececec" lw 0.6
set key outside right top vertical Left reverse noenhanced box lc rgb "#bbbbbb" spacing 1.15 samplen 3
set tics nomirror out
set mxtics 10
set bmargin 4
set pointsize 1.1
set autoscale noextend  # the data decides the range, not the next decade
set offsets 0, 0, graph 0.06, graph 0.06  # lines at the edge of the range stay visible

# 5. Failed requests (connect/read/write/timeout/parse errors and non-2xx) as % of attempts.
set title "seed: failed requests vs concurrency (delay 3 s, new connection per request)" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "failed requests, % of attempted"
set logscale x
set yrange [-3:103]
set ytics 0, 10, 100
set mytics 2

set xrange [3.3333333333333335:7.5]
set xtics ("5" 5)
plot "/tmp/s2/ref/seed-20261122-010058/plots/blocking.dat" using 1:9 with linespoints lc rgb "#d62728" dt 1 pt 7 ps 1.80 lw 2 title "blocking", \
     "/tmp/s2/ref/seed-20261122-010058/plots/threaded.dat" using 1:9 with linespoints lc rgb "#ff7f0e" dt 1 pt 5 ps 1.47 lw 2 title "threaded", \
     "/tmp/s2/ref/seed-20261122-010058/plots/select.dat" using 1:9 with linespoints lc rgb "#9467bd" dt 1 pt 9 ps 1.13 lw 2 title "select", \
     "/tmp/s2/ref/seed-20261122-010058/plots/epoll.dat" using 1:9 with linespoints lc rgb "#1f77b4" dt 1 pt 13 ps 0.80 lw 2 title "epoll"
unset output
