#include "proxy/io_errors.hpp"

namespace ipm::proxy {

bool out_of_resources(const boost::system::error_code& ec) {
  using boost::system::errc::errc_t;
  // Compared as conditions: Asio reports system_category codes.
  return ec == errc_t::too_many_files_open || ec == errc_t::too_many_files_open_in_system ||
         ec == errc_t::no_buffer_space || ec == errc_t::not_enough_memory;
}

}  // namespace ipm::proxy
