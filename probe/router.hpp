#pragma once

#include "probe/context.hpp"
#include "probe/message.hpp"

namespace ipm::probe {

/// Answers one request: a pure function of the request and the context, with no socket, so
/// every route is tested directly. Unknown path 404; known path with the wrong method 405
/// with `Allow`; HEAD is answered as GET (the session then sends no body).
/// Thread-safe as far as Context is: call it from any session.
Response handle(const Request& request, Context& context);

}  // namespace ipm::probe
