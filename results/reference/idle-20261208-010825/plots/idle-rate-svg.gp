# idle-rate plot of idle, made by scripts/plot.py
set terminal svg size 1100,733 dynamic enhanced font "DejaVu Sans,12" background "#ffffff"
set output "/tmp/idleref/idle-20261208-010825/plots/idle-rate.svg"
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

set title "idle: reply rate vs offered request rate (open loop)" noenhanced
set ylabel "2xx replies per second (log scale)"
set logscale xy
set format y "%g"
set key maxcols 2 at screen 0.5, 0.008185538881309686 center bottom
set bmargin at screen 0.2291950886766712
set tmargin 2
set xlabel "offered request rate, requests/s (log scale; dotted: replies = offered)"
set xrange [666.6666666666666:37500.0]
set xtics ("1,000" 1000, "3,000" 3000, "6,000" 6000, "10,000" 10000, "15,000" 15000, "25,000" 25000)
set yrange [793.1362237517221:31460.2488863387]
set ytics ("1000" 1000.0, "2000" 2000.0, "5000" 5000.0, "10000" 10000.0, "20000" 20000.0)
plot "/tmp/idleref/idle-20261208-010825/plots/poll-open-idle0-rate.dat" using 1:($2 > 0 ? $2 : 1/0) with linespoints lc rgb "#17becf" dt 1 pt 13 ps 1.00 lw 2 title "poll-open, 0 idle", \
     "/tmp/idleref/idle-20261208-010825/plots/poll-open-idle10000-rate.dat" using 1:($2 > 0 ? $2 : 1/0) with linespoints lc rgb "#17becf" dt 2 pt 13 ps 1.00 lw 2 title "poll-open, 10,000 idle", \
     "/tmp/idleref/idle-20261208-010825/plots/epoll-open-idle0-rate.dat" using 1:($2 > 0 ? $2 : 1/0) with linespoints lc rgb "#1f77b4" dt 1 pt 13 ps 0.90 lw 2 title "epoll-open, 0 idle", \
     "/tmp/idleref/idle-20261208-010825/plots/epoll-open-idle10000-rate.dat" using 1:($2 > 0 ? $2 : 1/0) with linespoints lc rgb "#1f77b4" dt 2 pt 13 ps 0.90 lw 2 title "epoll-open, 10,000 idle", \
     "/tmp/idleref/idle-20261208-010825/plots/uring-open-idle0-rate.dat" using 1:($2 > 0 ? $2 : 1/0) with linespoints lc rgb "#ad494a" dt 1 pt 13 ps 0.80 lw 2 title "uring-open, 0 idle", \
     "/tmp/idleref/idle-20261208-010825/plots/uring-open-idle10000-rate.dat" using 1:($2 > 0 ? $2 : 1/0) with linespoints lc rgb "#ad494a" dt 2 pt 13 ps 0.80 lw 2 title "uring-open, 10,000 idle", \
     x with lines lc rgb '#000000' dt 3 lw 1 title 'replies = offered'
