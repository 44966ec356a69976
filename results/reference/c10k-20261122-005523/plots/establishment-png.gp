# establishment plot of c10k, made by scripts/plot.py
set terminal pngcairo size 1100,670 enhanced font "DejaVu Sans,12" background "#ffffff"
set output "results/reference/c10k-20261122-005523/plots/establishment.png"
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
set title "c10k: time until all C connections were answered once (delay 1 s, keep-alive)" noenhanced
set xlabel "concurrent connections C (log scale)"
set ylabel "time until all C answered once, s (log scale)"
set logscale xy
set format y "%g"

set key maxcols 1 at screen 0.5, 0.008955223880597015 center bottom
set bmargin at screen 0.15671641791044777
set tmargin 2
set xrange [0.6666666666666666:15000.0]
set xtics ("1" 1, "10" 10, "100" 100, "1,000" 1000, "3,000" 3000, "10,000" 10000)
unset logscale y
set yrange [0:1]
unset ytics
set label 1 "no data for this plot in this results folder" at graph 0.5, 0.5 center
plot 1 with points lc rgb '#ffffff' notitle
unset output
