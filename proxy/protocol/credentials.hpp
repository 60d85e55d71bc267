#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace ipm::protocol {

/// Checks a client's username and password. Empty: the listener needs no authentication (a
/// client that offers credentials anyway is let in, and its username is kept for selection).
using CredentialCheck = std::function<bool(std::string_view user, std::string_view password)>;

/// A username and password a client gave, or an upstream asks for.
struct Credentials {
  std::string user;
  std::string password;
  bool given = false;  ///< the client authenticated (even with empty strings)
};

}  // namespace ipm::protocol
