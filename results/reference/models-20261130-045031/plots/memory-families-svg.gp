# memory plot of models, made by scripts/plot.py
set terminal svg size 1100,1592 dynamic enhanced font "DejaVu Sans,12" background "#ffffff"
set output "results/reference/models-20261130-045031/plots/memory-families.svg"
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

# 3. Server memory per connection: (peak PSS - idle PSS) / C over the server's whole process tree.
set title "models: memory per connection (server PSS solid, kernel TCP buffers dashed) vs concurrency (delay 1 s, keep-alive)" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "server PSS per connection, KiB (log scale)"
set logscale xy
set format y "%g"

set key maxcols 1 at screen 0.5, 0.0037688442211055275 center bottom
set bmargin at screen 0.06595477386934673
set tmargin 2
set xrange [0.6666666666666666:15000.0]
set xtics ("1" 1, "10" 10, "100" 100, "1,000" 1000, "10,000" 10000)
set yrange [0.022923865212128882:286.77537313915695]
set ytics ("0.1" 0.1, "1" 1.0, "10" 10.0, "100" 100.0)
set tics font ',9'
unset title
set multiplot title "models: memory per connection (server PSS solid, kernel TCP buffers dashed) vs concurrency (delay 1 s, keep-alive), by family"
set title "one connection at a time (1)" noenhanced
set lmargin at screen 0.09090909090909091
set rmargin at screen 0.4772727272727273
set tmargin at screen 0.949748743718593
set bmargin at screen 0.7613065326633166
set key maxcols 1 at screen 0.25, 0.7141959798994975 center top
plot "results/reference/models-20261130-045031/plots/blocking.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#d62728" dt 1 pt 7 ps 1.80 lw 2 title "blocking", \
     "results/reference/models-20261130-045031/plots/blocking.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#d62728" dt 2 pt 6 ps 1.80 lw 1.5 title "blocking kernel TCP buffers"
set title "a thread or process per connection (2)" noenhanced
set lmargin at screen 0.5909090909090909
set rmargin at screen 0.9772727272727273
set tmargin at screen 0.949748743718593
set bmargin at screen 0.7613065326633166
set key maxcols 1 at screen 0.75, 0.7141959798994975 center top
plot "results/reference/models-20261130-045031/plots/threaded.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#ff7f0e" dt 1 pt 5 ps 1.72 lw 2 title "threaded", \
     "results/reference/models-20261130-045031/plots/forking.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#8c564b" dt 1 pt 5 ps 1.63 lw 2 title "forking", \
     "results/reference/models-20261130-045031/plots/threaded.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#ff7f0e" dt 2 pt 4 ps 1.72 lw 1.5 title "threaded kernel TCP buffers", \
     "results/reference/models-20261130-045031/plots/forking.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#8c564b" dt 2 pt 4 ps 1.63 lw 1.5 title "forking kernel TCP buffers"
set title "pools of threads or processes (2)" noenhanced
set lmargin at screen 0.09090909090909091
set rmargin at screen 0.4772727272727273
set tmargin at screen 0.4654522613065326
set bmargin at screen 0.27701005025125625
set key maxcols 1 at screen 0.25, 0.2298994974874372 center top
plot "results/reference/models-20261130-045031/plots/threadpool.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#7f7f7f" dt 1 pt 9 ps 1.13 lw 2 title "threadpool", \
     "results/reference/models-20261130-045031/plots/prefork.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#bcbd22" dt 1 pt 9 ps 1.05 lw 2 title "prefork", \
     "results/reference/models-20261130-045031/plots/threadpool.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#7f7f7f" dt 2 pt 8 ps 1.13 lw 1.5 title "threadpool kernel TCP buffers", \
     "results/reference/models-20261130-045031/plots/prefork.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#bcbd22" dt 2 pt 8 ps 1.05 lw 1.5 title "prefork kernel TCP buffers"
set title "event loops (8)" noenhanced
set lmargin at screen 0.5909090909090909
set rmargin at screen 0.9772727272727273
set tmargin at screen 0.4654522613065326
set bmargin at screen 0.27701005025125625
set key maxcols 1 at screen 0.75, 0.2298994974874372 center top
plot "results/reference/models-20261130-045031/plots/select.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#9467bd" dt 1 pt 13 ps 1.55 lw 2 title "select", \
     "results/reference/models-20261130-045031/plots/epoll.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#1f77b4" dt 1 pt 13 ps 1.47 lw 2 title "epoll", \
     "results/reference/models-20261130-045031/plots/libuv.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#2ca02c" dt 1 pt 13 ps 1.38 lw 2 title "libuv", \
     "results/reference/models-20261130-045031/plots/poll.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#17becf" dt 1 pt 13 ps 1.30 lw 2 title "poll", \
     "results/reference/models-20261130-045031/plots/epoll-et.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#e377c2" dt 1 pt 13 ps 1.22 lw 2 title "epoll-et", \
     "results/reference/models-20261130-045031/plots/reuseport.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#393b79" dt 1 pt 13 ps 0.97 lw 2 title "reuseport", \
     "results/reference/models-20261130-045031/plots/epoll-threads.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#00796b" dt 1 pt 13 ps 0.88 lw 2 title "epoll-threads", \
     "results/reference/models-20261130-045031/plots/uring.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#ad494a" dt 1 pt 13 ps 0.80 lw 2 title "uring", \
     "results/reference/models-20261130-045031/plots/select.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#9467bd" dt 2 pt 12 ps 1.55 lw 1.5 title "select kernel TCP buffers", \
     "results/reference/models-20261130-045031/plots/epoll.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#1f77b4" dt 2 pt 12 ps 1.47 lw 1.5 title "epoll kernel TCP buffers", \
     "results/reference/models-20261130-045031/plots/libuv.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#2ca02c" dt 2 pt 12 ps 1.38 lw 1.5 title "libuv kernel TCP buffers", \
     "results/reference/models-20261130-045031/plots/poll.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#17becf" dt 2 pt 12 ps 1.30 lw 1.5 title "poll kernel TCP buffers", \
     "results/reference/models-20261130-045031/plots/epoll-et.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#e377c2" dt 2 pt 12 ps 1.22 lw 1.5 title "epoll-et kernel TCP buffers", \
     "results/reference/models-20261130-045031/plots/reuseport.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#393b79" dt 2 pt 12 ps 0.97 lw 1.5 title "reuseport kernel TCP buffers", \
     "results/reference/models-20261130-045031/plots/epoll-threads.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#00796b" dt 2 pt 12 ps 0.88 lw 1.5 title "epoll-threads kernel TCP buffers", \
     "results/reference/models-20261130-045031/plots/uring.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#ad494a" dt 2 pt 12 ps 0.80 lw 1.5 title "uring kernel TCP buffers"
unset multiplot
unset output
