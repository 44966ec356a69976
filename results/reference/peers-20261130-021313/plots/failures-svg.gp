# failures plot of peers, made by scripts/plot.py
set terminal svg size 1100,640 dynamic enhanced font "DejaVu Sans,12" background "#ffffff"
set output "/work/wt/lead/results/reference/peers-20261130-021313/plots/failures.svg"
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

# 5. Errors (connect/read/write/timeout/parse: no answer) and non-2xx answers, each as % of attempts.
set title "peers: errors (solid) and non-2xx answers (dashed) vs concurrency" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "errors / non-2xx answers, % of attempted"
set logscale x
set yrange [-3:103]
set ytics 0, 10, 100
set mytics 2

set xrange [0.6666666666666666:15000.0]
set xtics ("1" 1, "10" 10, "100" 100, "1,000" 1000, "3,000" 3000, "10,000" 10000)
plot "/work/wt/lead/results/reference/peers-20261130-021313/plots/epoll-keepalive.dat" using 1:12 with linespoints lc rgb "#1f77b4" dt 1 pt 7 ps 1.80 lw 2 title "epoll-keepalive errors", \
     "/work/wt/lead/results/reference/peers-20261130-021313/plots/reuseport-keepalive.dat" using 1:12 with linespoints lc rgb "#393b79" dt 1 pt 5 ps 1.71 lw 2 title "reuseport-keepalive errors", \
     "/work/wt/lead/results/reference/peers-20261130-021313/plots/nginx-1-keepalive.dat" using 1:12 with linespoints lc rgb "#000000" dt 1 pt 9 ps 1.62 lw 2 title "nginx-1-keepalive errors", \
     "/work/wt/lead/results/reference/peers-20261130-021313/plots/nginx-2-keepalive.dat" using 1:12 with linespoints lc rgb "#000000" dt 2 pt 13 ps 1.53 lw 2 title "nginx-2-keepalive errors", \
     "/work/wt/lead/results/reference/peers-20261130-021313/plots/h2o-keepalive.dat" using 1:12 with linespoints lc rgb "#637939" dt 1 pt 11 ps 1.44 lw 2 title "h2o-keepalive errors", \
     "/work/wt/lead/results/reference/peers-20261130-021313/plots/asyncio-keepalive.dat" using 1:12 with linespoints lc rgb "#843c39" dt 1 pt 15 ps 1.35 lw 2 title "asyncio-keepalive errors", \
     "/work/wt/lead/results/reference/peers-20261130-021313/plots/epoll-close.dat" using 1:12 with linespoints lc rgb "#1f77b4" dt 2 pt 4 ps 1.25 lw 2 title "epoll-close errors", \
     "/work/wt/lead/results/reference/peers-20261130-021313/plots/reuseport-close.dat" using 1:12 with linespoints lc rgb "#393b79" dt 2 pt 6 ps 1.16 lw 2 title "reuseport-close errors", \
     "/work/wt/lead/results/reference/peers-20261130-021313/plots/nginx-1-close.dat" using 1:12 with linespoints lc rgb "#000000" dt 3 pt 8 ps 1.07 lw 2 title "nginx-1-close errors", \
     "/work/wt/lead/results/reference/peers-20261130-021313/plots/nginx-2-close.dat" using 1:12 with linespoints lc rgb "#000000" dt 4 pt 10 ps 0.98 lw 2 title "nginx-2-close errors", \
     "/work/wt/lead/results/reference/peers-20261130-021313/plots/h2o-close.dat" using 1:12 with linespoints lc rgb "#637939" dt 2 pt 12 ps 0.89 lw 2 title "h2o-close errors", \
     "/work/wt/lead/results/reference/peers-20261130-021313/plots/asyncio-close.dat" using 1:12 with linespoints lc rgb "#843c39" dt 2 pt 14 ps 0.80 lw 2 title "asyncio-close errors"
unset output
