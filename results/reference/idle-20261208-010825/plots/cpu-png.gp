# cpu plot of idle, made by scripts/plot.py
set terminal pngcairo size 1100,712 enhanced font "DejaVu Sans,12" background "#ffffff"
set output "/tmp/idleref/idle-20261208-010825/plots/cpu.png"
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

# 4. Server CPU time (user + sys, whole process tree) per request served.
set title "idle: server CPU time per request vs concurrency (keep-alive)" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "server CPU per request, µs (log scale)"
set logscale xy
set format y "%g"

set key maxcols 5 at screen 0.5, 0.008426966292134831 center bottom
set bmargin at screen 0.20646067415730338
set tmargin 2
set xrange [0.6666666666666666:300.0]
set xtics ("1" 1, "50" 50, "200" 200)
set yrange [7.319101251691863:59.6869185132557]
set ytics ("10" 10.0, "20" 20.0, "50" 50.0)
plot "/tmp/idleref/idle-20261208-010825/plots/select.dat" using 1:($8 > 0 ? $8 : 1/0) with linespoints lc rgb "#9467bd" dt 1 pt 13 ps 1.80 lw 2 title "select", \
     "/tmp/idleref/idle-20261208-010825/plots/poll.dat" using 1:($8 > 0 ? $8 : 1/0) with linespoints lc rgb "#17becf" dt 1 pt 13 ps 1.70 lw 2 title "poll", \
     "/tmp/idleref/idle-20261208-010825/plots/epoll.dat" using 1:($8 > 0 ? $8 : 1/0) with linespoints lc rgb "#1f77b4" dt 1 pt 13 ps 1.60 lw 2 title "epoll", \
     "/tmp/idleref/idle-20261208-010825/plots/epoll-et.dat" using 1:($8 > 0 ? $8 : 1/0) with linespoints lc rgb "#e377c2" dt 1 pt 13 ps 1.50 lw 2 title "epoll-et", \
     "/tmp/idleref/idle-20261208-010825/plots/uring.dat" using 1:($8 > 0 ? $8 : 1/0) with linespoints lc rgb "#ad494a" dt 1 pt 13 ps 1.40 lw 2 title "uring", \
     "/tmp/idleref/idle-20261208-010825/plots/libuv.dat" using 1:($8 > 0 ? $8 : 1/0) with linespoints lc rgb "#2ca02c" dt 1 pt 13 ps 1.30 lw 2 title "libuv", \
     "/tmp/idleref/idle-20261208-010825/plots/threaded.dat" using 1:($8 > 0 ? $8 : 1/0) with linespoints lc rgb "#ff7f0e" dt 1 pt 5 ps 1.20 lw 2 title "threaded", \
     "/tmp/idleref/idle-20261208-010825/plots/forking.dat" using 1:($8 > 0 ? $8 : 1/0) with linespoints lc rgb "#8c564b" dt 1 pt 5 ps 1.10 lw 2 title "forking"
unset output
