# memory plot of c10k, made by scripts/plot.py
set terminal svg size 1100,691 dynamic enhanced font "DejaVu Sans,12" background "#ffffff"
set output "results/reference/c10k-20261122-005523/plots/memory.svg"
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
set title "c10k: memory per connection (server PSS solid, kernel TCP buffers dashed) vs concurrency (delay 1 s, keep-alive)" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "server PSS per connection, KiB (log scale)"
set logscale xy
set format y "%g"

set key maxcols 5 at screen 0.5, 0.008683068017366137 center bottom
set bmargin at screen 0.18234442836468887
set tmargin 2
set xrange [0.6666666666666666:15000.0]
set xtics ("1" 1, "10" 10, "100" 100, "1,000" 1000, "3,000" 3000, "10,000" 10000)
set yrange [0.6998833492965256:201.82220386008143]
set ytics ("1" 1.0, "10" 10.0, "100" 100.0)
plot "results/reference/c10k-20261122-005523/plots/threaded.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#ff7f0e" dt 1 pt 5 ps 1.60 lw 2 title "threaded", \
     "results/reference/c10k-20261122-005523/plots/forking.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#8c564b" dt 1 pt 5 ps 1.40 lw 2 title "forking", \
     "results/reference/c10k-20261122-005523/plots/select.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#9467bd" dt 1 pt 13 ps 1.20 lw 2 title "select", \
     "results/reference/c10k-20261122-005523/plots/epoll.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#1f77b4" dt 1 pt 13 ps 1.00 lw 2 title "epoll", \
     "results/reference/c10k-20261122-005523/plots/libuv.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#2ca02c" dt 1 pt 13 ps 0.80 lw 2 title "libuv"
unset output
