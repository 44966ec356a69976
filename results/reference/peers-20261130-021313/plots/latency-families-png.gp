# latency plot of peers, made by scripts/plot.py
set terminal pngcairo size 1100,821 enhanced font "DejaVu Sans,12" background "#ffffff"
set output "results/reference/peers-20261130-021313/plots/latency-families.png"
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
set title "peers: latency of 2xx responses (p50 solid, p99 dashed) vs concurrency" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "latency per request, ms (log scale)"
set logscale xy
set format y "%g"

set key maxcols 1 at screen 0.5, 0.007308160779537149 center bottom
set bmargin at screen 0.1278928136419001
set tmargin 2
set xrange [0.6666666666666666:15000.0]
set xtics ("1" 1, "10" 10, "100" 100, "1,000" 1000, "3,000" 3000, "10,000" 10000)
set yrange [0.00573637003475853:5522.386423478606]
set ytics ("0.01" 0.01, "0.1" 0.1, "1" 1.0, "10" 10.0, "100" 100.0, "1000" 1000.0)
set tics font ',9'
unset title
set multiplot title "peers: latency of 2xx responses (p50 solid, p99 dashed) vs concurrency, by family"
set title "event loops (4)" noenhanced
set lmargin at screen 0.09090909090909091
set rmargin at screen 0.4772727272727273
set tmargin at screen 0.902557856272838
set bmargin at screen 0.5371498172959805
set key maxcols 1 at screen 0.25, 0.4457978075517661 center top
plot "results/reference/peers-20261130-021313/plots/epoll-keepalive.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#1f77b4" dt 1 pt 13 ps 1.80 lw 2 title "epoll-keepalive p50", \
     "results/reference/peers-20261130-021313/plots/epoll-keepalive.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#1f77b4" dt 2 pt 12 ps 1.80 lw 1.5 title "epoll-keepalive p99", \
     "results/reference/peers-20261130-021313/plots/reuseport-keepalive.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#393b79" dt 1 pt 13 ps 1.71 lw 2 title "reuseport-keepalive p50", \
     "results/reference/peers-20261130-021313/plots/reuseport-keepalive.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#393b79" dt 2 pt 12 ps 1.71 lw 1.5 title "reuseport-keepalive p99", \
     "results/reference/peers-20261130-021313/plots/epoll-close.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#1f77b4" dt 4 pt 13 ps 1.25 lw 2 title "epoll-close p50", \
     "results/reference/peers-20261130-021313/plots/epoll-close.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#1f77b4" dt 3 pt 12 ps 1.25 lw 1.5 title "epoll-close p99", \
     "results/reference/peers-20261130-021313/plots/reuseport-close.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#393b79" dt 4 pt 13 ps 1.16 lw 2 title "reuseport-close p50", \
     "results/reference/peers-20261130-021313/plots/reuseport-close.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#393b79" dt 3 pt 12 ps 1.16 lw 1.5 title "reuseport-close p99"
set title "other servers (8)" noenhanced
set lmargin at screen 0.5909090909090909
set rmargin at screen 0.9772727272727273
set tmargin at screen 0.902557856272838
set bmargin at screen 0.5371498172959805
set key maxcols 1 at screen 0.75, 0.4457978075517661 center top
plot "results/reference/peers-20261130-021313/plots/nginx-1-keepalive.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#6a3d9a" dt 1 pt 15 ps 1.62 lw 2 title "nginx-1-keepalive p50", \
     "results/reference/peers-20261130-021313/plots/nginx-1-keepalive.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#6a3d9a" dt 2 pt 14 ps 1.62 lw 1.5 title "nginx-1-keepalive p99", \
     "results/reference/peers-20261130-021313/plots/nginx-2-keepalive.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#6a3d9a" dt 4 pt 15 ps 1.53 lw 2 title "nginx-2-keepalive p50", \
     "results/reference/peers-20261130-021313/plots/nginx-2-keepalive.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#6a3d9a" dt 3 pt 14 ps 1.53 lw 1.5 title "nginx-2-keepalive p99", \
     "results/reference/peers-20261130-021313/plots/h2o-keepalive.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#b15928" dt 1 pt 15 ps 1.44 lw 2 title "h2o-keepalive p50", \
     "results/reference/peers-20261130-021313/plots/h2o-keepalive.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#b15928" dt 2 pt 14 ps 1.44 lw 1.5 title "h2o-keepalive p99", \
     "results/reference/peers-20261130-021313/plots/asyncio-keepalive.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#1b9e77" dt 1 pt 15 ps 1.35 lw 2 title "asyncio-keepalive p50", \
     "results/reference/peers-20261130-021313/plots/asyncio-keepalive.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#1b9e77" dt 2 pt 14 ps 1.35 lw 1.5 title "asyncio-keepalive p99", \
     "results/reference/peers-20261130-021313/plots/nginx-1-close.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#6a3d9a" dt 5 pt 15 ps 1.07 lw 2 title "nginx-1-close p50", \
     "results/reference/peers-20261130-021313/plots/nginx-1-close.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#6a3d9a" dt '_ _ ' pt 14 ps 1.07 lw 1.5 title "nginx-1-close p99", \
     "results/reference/peers-20261130-021313/plots/nginx-2-close.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#6a3d9a" dt '__ . ' pt 15 ps 0.98 lw 2 title "nginx-2-close p50", \
     "results/reference/peers-20261130-021313/plots/nginx-2-close.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#6a3d9a" dt '. . ' pt 14 ps 0.98 lw 1.5 title "nginx-2-close p99", \
     "results/reference/peers-20261130-021313/plots/h2o-close.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#b15928" dt 4 pt 15 ps 0.89 lw 2 title "h2o-close p50", \
     "results/reference/peers-20261130-021313/plots/h2o-close.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#b15928" dt 3 pt 14 ps 0.89 lw 1.5 title "h2o-close p99", \
     "results/reference/peers-20261130-021313/plots/asyncio-close.dat" using 1:($5 > 0 ? $5 : 1/0) with linespoints lc rgb "#1b9e77" dt 4 pt 15 ps 0.80 lw 2 title "asyncio-close p50", \
     "results/reference/peers-20261130-021313/plots/asyncio-close.dat" using 1:($6 > 0 ? $6 : 1/0) with linespoints lc rgb "#1b9e77" dt 3 pt 14 ps 0.80 lw 1.5 title "asyncio-close p99"
unset multiplot
unset output
