# libnd_plot: PLplot (cairo driver) for figures, Graphviz (libgvc) for graphs.
pkg_check_modules(PLPLOT REQUIRED plplot)
pkg_check_modules(GVC REQUIRED libgvc)
nd_part(nd_plot src/plot ${CMAKE_SOURCE_DIR}/src ${PLPLOT_INCLUDE_DIRS} ${GVC_INCLUDE_DIRS})
target_link_libraries(nd_plot PUBLIC nd ${PLPLOT_LIBRARIES} ${GVC_LIBRARIES})
target_link_libraries(nd_plot_static PUBLIC nd_static ${PLPLOT_LIBRARIES} ${GVC_LIBRARIES})
target_link_libraries(nd_plot_objects PUBLIC OpenMP::OpenMP_C)
install(FILES include/nd_plot.h DESTINATION include)
nd_pkgconfig(nd_plot "Plots and graphs for nd" "nd" "-lnd_plot -lplplot -lgvc -lcgraph -lcdt")
