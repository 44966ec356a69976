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
