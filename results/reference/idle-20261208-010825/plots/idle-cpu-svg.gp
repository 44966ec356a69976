# idle-cpu plot of idle, made by scripts/plot.py
set terminal svg size 1100,796 dynamic enhanced font "DejaVu Sans,12" background "#ffffff"
set output "/tmp/idleref/idle-20261208-010825/plots/idle-cpu.svg"
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

set title "idle: server CPU per request vs idle connections (measured window)" noenhanced
set ylabel "server CPU per request, µs (log scale)"
set logscale xy
set format y "%g"
set key maxcols 3 at screen 0.5, 0.007537688442211055 center bottom
set bmargin at screen 0.29020100502512564
set tmargin 2
set xlabel "idle connections held beside the active ones (log scale; 0 drawn a decade below the lowest level)"
set xrange [66.66666666666667:22500.0]
set xtics ("0" 100.0, "1,000" 1000, "3,000" 3000, "10,000" 10000, "15,000" 15000)
set yrange [4.533366973288039:8540.178950463294]
set ytics ("10" 10.0, "100" 100.0, "1000" 1000.0)
plot "/tmp/idleref/idle-20261208-010825/plots/select-c1-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#9467bd" dt 1 pt 13 ps 1.80 lw 2 title "select, C = 1", \
     "/tmp/idleref/idle-20261208-010825/plots/select-c50-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#9467bd" dt 2 pt 13 ps 1.80 lw 2 title "select, C = 50", \
     "/tmp/idleref/idle-20261208-010825/plots/poll-c1-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#17becf" dt 1 pt 13 ps 1.70 lw 2 title "poll, C = 1", \
     "/tmp/idleref/idle-20261208-010825/plots/poll-c50-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#17becf" dt 2 pt 13 ps 1.70 lw 2 title "poll, C = 50", \
     "/tmp/idleref/idle-20261208-010825/plots/epoll-c1-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#1f77b4" dt 1 pt 13 ps 1.60 lw 2 title "epoll, C = 1", \
     "/tmp/idleref/idle-20261208-010825/plots/epoll-c50-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#1f77b4" dt 2 pt 13 ps 1.60 lw 2 title "epoll, C = 50", \
     "/tmp/idleref/idle-20261208-010825/plots/epoll-et-c1-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#e377c2" dt 1 pt 13 ps 1.50 lw 2 title "epoll-et, C = 1", \
     "/tmp/idleref/idle-20261208-010825/plots/epoll-et-c50-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#e377c2" dt 2 pt 13 ps 1.50 lw 2 title "epoll-et, C = 50", \
     "/tmp/idleref/idle-20261208-010825/plots/uring-c1-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#ad494a" dt 1 pt 13 ps 1.40 lw 2 title "uring, C = 1", \
     "/tmp/idleref/idle-20261208-010825/plots/uring-c50-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#ad494a" dt 2 pt 13 ps 1.40 lw 2 title "uring, C = 50", \
     "/tmp/idleref/idle-20261208-010825/plots/libuv-c1-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#2ca02c" dt 1 pt 13 ps 1.30 lw 2 title "libuv, C = 1", \
     "/tmp/idleref/idle-20261208-010825/plots/libuv-c50-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#2ca02c" dt 2 pt 13 ps 1.30 lw 2 title "libuv, C = 50", \
     "/tmp/idleref/idle-20261208-010825/plots/threaded-c1-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#ff7f0e" dt 1 pt 5 ps 1.20 lw 2 title "threaded, C = 1", \
     "/tmp/idleref/idle-20261208-010825/plots/threaded-c50-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#ff7f0e" dt 2 pt 5 ps 1.20 lw 2 title "threaded, C = 50", \
     "/tmp/idleref/idle-20261208-010825/plots/forking-c1-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#8c564b" dt 1 pt 5 ps 1.10 lw 2 title "forking, C = 1", \
     "/tmp/idleref/idle-20261208-010825/plots/forking-c50-idle.dat" using 1:($3 > 0 ? $3 : 1/0) with linespoints lc rgb "#8c564b" dt 2 pt 5 ps 1.10 lw 2 title "forking, C = 50"
