# failures plot of seed, made by scripts/plot.py
set terminal pngcairo size 1100,712 enhanced font "DejaVu Sans,12" background "#ffffff"
set output "results/reference/seed-20261122-010058/plots/failures.png"
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

# 5. Errors (connect/read/write/timeout/parse: no answer) and non-2xx answers, each as % of attempts.
set title "seed: errors (solid) and non-2xx answers (dashed) vs concurrency (delay 3 s, new connection per request)" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "errors / non-2xx answers, % of attempted"
set logscale x
set yrange [-3:103]
set ytics 0, 10, 100
set mytics 2

set key maxcols 3 at screen 0.5, 0.008426966292134831 center bottom
set bmargin at screen 0.20646067415730338
set tmargin 2
set xrange [3.3333333333333335:7.5]
set xtics ("5" 5)
plot "results/reference/seed-20261122-010058/plots/blocking.dat" using 1:12 with linespoints lc rgb "#d62728" dt 1 pt 7 ps 1.80 lw 2 title "blocking errors", \
     "results/reference/seed-20261122-010058/plots/threaded.dat" using 1:12 with linespoints lc rgb "#ff7f0e" dt 1 pt 5 ps 1.47 lw 2 title "threaded errors", \
     "results/reference/seed-20261122-010058/plots/select.dat" using 1:12 with linespoints lc rgb "#9467bd" dt 1 pt 13 ps 1.13 lw 2 title "select errors", \
     "results/reference/seed-20261122-010058/plots/epoll.dat" using 1:12 with linespoints lc rgb "#1f77b4" dt 1 pt 13 ps 0.80 lw 2 title "epoll errors"
unset output
