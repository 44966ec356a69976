# cpu plot of seed, made by scripts/plot.py
set terminal pngcairo size 1100,691 enhanced font "DejaVu Sans,12" background "#ffffff"
set output "results/reference/seed-20261122-010058/plots/cpu.png"
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
set title "seed: server CPU time per request vs concurrency (delay 3 s, new connection per request)" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "server CPU per request, µs (log scale)"
set logscale xy
set format y "%g"

set key maxcols 4 at screen 0.5, 0.008683068017366137 center bottom
set bmargin at screen 0.18234442836468887
set tmargin 2
set xrange [3.3333333333333335:7.5]
set xtics ("5" 5)
set yrange [21.205099675251017:182.94655811157264]
set ytics ("30" 30.0, "50" 50.0, "70" 70.0, "100" 100.0)
plot "results/reference/seed-20261122-010058/plots/blocking.dat" using 1:($8 > 0 ? $8 : 1/0) with linespoints lc rgb "#d62728" dt 1 pt 7 ps 1.80 lw 2 title "blocking", \
     "results/reference/seed-20261122-010058/plots/threaded.dat" using 1:($8 > 0 ? $8 : 1/0) with linespoints lc rgb "#ff7f0e" dt 1 pt 5 ps 1.47 lw 2 title "threaded", \
     "results/reference/seed-20261122-010058/plots/select.dat" using 1:($8 > 0 ? $8 : 1/0) with linespoints lc rgb "#9467bd" dt 1 pt 13 ps 1.13 lw 2 title "select", \
     "results/reference/seed-20261122-010058/plots/epoll.dat" using 1:($8 > 0 ? $8 : 1/0) with linespoints lc rgb "#1f77b4" dt 1 pt 13 ps 0.80 lw 2 title "epoll"
unset output
