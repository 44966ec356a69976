# establishment plot of peers, made by scripts/plot.py
set terminal pngcairo size 1100,754 enhanced font "DejaVu Sans,12" background "#ffffff"
set output "results/reference/peers-20261130-021313/plots/establishment.png"
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

# 6. Establishment phase: seconds until all C connections had one 2xx answer.
set title "peers: time until all C connections were answered once" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "time until all C answered once, s (log scale)"
set logscale xy
set format y "%g"

set key maxcols 3 at screen 0.5, 0.007957559681697613 center bottom
set bmargin at screen 0.2506631299734748
set tmargin 2
set xrange [0.6666666666666666:15000.0]
set xtics ("1" 1, "10" 10, "100" 100, "1,000" 1000, "3,000" 3000, "10,000" 10000)
set yrange [0.00014254576704561195:5.10920994074106]
set ytics ("0.001" 0.001, "0.01" 0.01, "0.1" 0.1, "1" 1.0)
plot "results/reference/peers-20261130-021313/plots/epoll-keepalive.dat" using 1:($13 > 0 ? $13 : 1/0) with linespoints lc rgb "#1f77b4" dt 1 pt 13 ps 1.80 lw 2 title "epoll-keepalive", \
     "results/reference/peers-20261130-021313/plots/reuseport-keepalive.dat" using 1:($13 > 0 ? $13 : 1/0) with linespoints lc rgb "#393b79" dt 1 pt 13 ps 1.71 lw 2 title "reuseport-keepalive", \
     "results/reference/peers-20261130-021313/plots/nginx-1-keepalive.dat" using 1:($13 > 0 ? $13 : 1/0) with linespoints lc rgb "#6a3d9a" dt 1 pt 15 ps 1.62 lw 2 title "nginx-1-keepalive", \
     "results/reference/peers-20261130-021313/plots/nginx-2-keepalive.dat" using 1:($13 > 0 ? $13 : 1/0) with linespoints lc rgb "#6a3d9a" dt 4 pt 15 ps 1.53 lw 2 title "nginx-2-keepalive", \
     "results/reference/peers-20261130-021313/plots/h2o-keepalive.dat" using 1:($13 > 0 ? $13 : 1/0) with linespoints lc rgb "#b15928" dt 1 pt 15 ps 1.44 lw 2 title "h2o-keepalive", \
     "results/reference/peers-20261130-021313/plots/asyncio-keepalive.dat" using 1:($13 > 0 ? $13 : 1/0) with linespoints lc rgb "#1b9e77" dt 1 pt 15 ps 1.35 lw 2 title "asyncio-keepalive", \
     "results/reference/peers-20261130-021313/plots/epoll-close.dat" using 1:($13 > 0 ? $13 : 1/0) with linespoints lc rgb "#1f77b4" dt 4 pt 13 ps 1.25 lw 2 title "epoll-close", \
     "results/reference/peers-20261130-021313/plots/reuseport-close.dat" using 1:($13 > 0 ? $13 : 1/0) with linespoints lc rgb "#393b79" dt 4 pt 13 ps 1.16 lw 2 title "reuseport-close", \
     "results/reference/peers-20261130-021313/plots/nginx-1-close.dat" using 1:($13 > 0 ? $13 : 1/0) with linespoints lc rgb "#6a3d9a" dt 5 pt 15 ps 1.07 lw 2 title "nginx-1-close", \
     "results/reference/peers-20261130-021313/plots/nginx-2-close.dat" using 1:($13 > 0 ? $13 : 1/0) with linespoints lc rgb "#6a3d9a" dt '__ . ' pt 15 ps 0.98 lw 2 title "nginx-2-close", \
     "results/reference/peers-20261130-021313/plots/h2o-close.dat" using 1:($13 > 0 ? $13 : 1/0) with linespoints lc rgb "#b15928" dt 4 pt 15 ps 0.89 lw 2 title "h2o-close", \
     "results/reference/peers-20261130-021313/plots/asyncio-close.dat" using 1:($13 > 0 ? $13 : 1/0) with linespoints lc rgb "#1b9e77" dt 4 pt 15 ps 0.80 lw 2 title "asyncio-close"
unset output
