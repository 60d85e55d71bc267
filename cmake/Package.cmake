# The Debian package: `bash deploy/package.sh` (the `package` preset, then cpack -G DEB).
# CPack rather than debhelper: the layout is the install() rules this build already has,
# dpkg-shlibdeps (dpkg-dev) computes the runtime dependencies from the binary, and no
# debian/ tree or dh tooling has to be kept beside the CMake lists.
include(GNUInstallDirs)

# The unit the package ships runs the packaged binary (the repo's unit says /usr/local/bin,
# where a source install puts it).
file(READ ${PROJECT_SOURCE_DIR}/deploy/systemd/ipmanager.service _ipm_unit)
string(REPLACE "/usr/local/bin/ipmanager" "${CMAKE_INSTALL_FULL_BINDIR}/ipmanager" _ipm_unit
               "${_ipm_unit}")
file(WRITE ${PROJECT_BINARY_DIR}/package/ipmanager.service "${_ipm_unit}")
install(FILES ${PROJECT_BINARY_DIR}/package/ipmanager.service DESTINATION lib/systemd/system)

install(FILES ${PROJECT_SOURCE_DIR}/deploy/examples/config.yaml
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/ipmanager)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/deploy/gen-pool.sh DESTINATION share/ipmanager)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/nginx/log_format.conf DESTINATION share/ipmanager/nginx)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/deploy/nginx/log_format.conf
              ${PROJECT_SOURCE_DIR}/deploy/logrotate/ipmanager-nginx
              ${PROJECT_SOURCE_DIR}/deploy/prometheus/ipmanager.yml
              ${PROJECT_SOURCE_DIR}/deploy/grafana/ipmanager-dashboard.json
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ipmanager)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ipmanager maintainers <ipmanager@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "health checks and load balancing for an nginx egress IP pool")
set(CPACK_PACKAGE_DESCRIPTION
    "ipmanager follows the access log of an nginx egress pool, takes egress IPs that keep failing out of rotation and lets them recover, load-balances client TCP connections onto the healthy ones and serves a probe with a JSON API and Prometheus metrics.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ipmanager_<version>_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The unit reloads with /bin/kill (procps); merged with the library dependencies.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "procps")
# target_grouping: site reads the freshest Public Suffix List (libpsl falls back to its own).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "publicsuffix")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nginx-light | nginx, prometheus")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
