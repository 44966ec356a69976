# memory plot of c100k, made by scripts/plot.py
set terminal pngcairo size 1100,775 enhanced font "DejaVu Sans,12" background "#ffffff"
set output "results/reference/c100k-20261130-035441/plots/memory.png"
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
set title "c100k: memory per connection (server PSS solid, kernel TCP buffers dashed) vs concurrency (delay 10 s, keep-alive)" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "server PSS per connection, KiB (log scale)"
set logscale xy
set format y "%g"

set key maxcols 2 at screen 0.5, 0.007741935483870968 center bottom
set bmargin at screen 0.2709677419354839
set tmargin 2
set xrange [666.6666666666666:150000.0]
set xtics ("1,000" 1000, "3,000" 3000, "10,000" 10000, "30,000" 30000, "100,000" 100000)
set yrange [0.050968362506778365:68.99721370354622]
set ytics ("0.1" 0.1, "1" 1.0, "10" 10.0)
plot "results/reference/c100k-20261130-035441/plots/epoll.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#1f77b4" dt 1 pt 13 ps 1.80 lw 2 title "epoll", \
     "results/reference/c100k-20261130-035441/plots/threaded.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#ff7f0e" dt 1 pt 5 ps 1.55 lw 2 title "threaded", \
     "results/reference/c100k-20261130-035441/plots/forking.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#8c564b" dt 1 pt 5 ps 1.30 lw 2 title "forking", \
     "results/reference/c100k-20261130-035441/plots/select.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#9467bd" dt 1 pt 13 ps 1.05 lw 2 title "select", \
     "results/reference/c100k-20261130-035441/plots/reuseport.dat" using 1:($7 > 0 ? $7 : 1/0) with linespoints lc rgb "#393b79" dt 1 pt 13 ps 0.80 lw 2 title "reuseport", \
     "results/reference/c100k-20261130-035441/plots/epoll.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#1f77b4" dt 2 pt 12 ps 1.80 lw 1.5 title "epoll kernel TCP buffers", \
     "results/reference/c100k-20261130-035441/plots/threaded.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#ff7f0e" dt 2 pt 4 ps 1.55 lw 1.5 title "threaded kernel TCP buffers", \
     "results/reference/c100k-20261130-035441/plots/forking.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#8c564b" dt 2 pt 4 ps 1.30 lw 1.5 title "forking kernel TCP buffers", \
     "results/reference/c100k-20261130-035441/plots/select.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#9467bd" dt 2 pt 12 ps 1.05 lw 1.5 title "select kernel TCP buffers", \
     "results/reference/c100k-20261130-035441/plots/reuseport.dat" using 1:($15 > 0 ? $15 : 1/0) with linespoints lc rgb "#393b79" dt 2 pt 12 ps 0.80 lw 1.5 title "reuseport kernel TCP buffers"
unset output
