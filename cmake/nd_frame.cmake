# libnd_frame: CSV reading and data frames (src/frame), on top of libnd.
nd_part(nd_frame src/frame ${CMAKE_SOURCE_DIR}/src)
if(TARGET nd_frame)
  target_link_libraries(nd_frame_objects PUBLIC OpenMP::OpenMP_C)
  target_link_libraries(nd_frame PUBLIC nd)
  target_link_libraries(nd_frame_static PUBLIC nd_static)
  install(FILES include/nd_frame.h DESTINATION include)
  nd_pkgconfig(nd_frame "Data frames: CSV reading and preprocessing for nd" "nd" "-lnd_frame")
endif()
