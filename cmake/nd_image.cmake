# libnd_image: PNG/JPEG/PNM files, affine matrices, warps, affine_grid/grid_sample.
nd_part(nd_image src/image ${CMAKE_SOURCE_DIR}/src)
if(TARGET nd_image)
  pkg_check_modules(PNG REQUIRED IMPORTED_TARGET libpng)
  pkg_check_modules(JPEG REQUIRED IMPORTED_TARGET libjpeg)
  target_link_libraries(nd_image_objects PUBLIC OpenMP::OpenMP_C PkgConfig::PNG PkgConfig::JPEG)
  target_link_libraries(nd_image PUBLIC nd PkgConfig::PNG PkgConfig::JPEG)
  target_link_libraries(nd_image_static PUBLIC nd_static PkgConfig::PNG PkgConfig::JPEG)
  install(FILES ${CMAKE_SOURCE_DIR}/include/nd_image.h DESTINATION include)
  nd_pkgconfig(nd_image "Images, affine transforms and differentiable warps for nd" "nd"
               "-lnd_image -lpng -ljpeg")
endif()
