#include "gateway/original_destination.hpp"

#include <gtest/gtest.h>

namespace {

using ipm::gateway::Destination;
using ipm::gateway::is_own_listener;

TEST(OriginalDestinationTest, the_gateways_own_listener_is_recognised_as_a_loop) {
  struct Case {
    Destination original;
    Destination local;  // the accepted connection's own address
    bool loop;
  };
  const Destination listener{"10.231.0.1", 8888, false};
  for (const Case& c : {
           // Not redirected: a client connected to the transparent port itself.
           Case{{"10.231.0.1", 8888, false}, listener, true},
           Case{{"fd31::1", 8888, true}, {"fd31::1", 8888, true}, true},
           // The unspecified address is this host.
           Case{{"0.0.0.0", 8888, false}, listener, true},
           Case{{"::", 80, true}, {"fd31::1", 8888, true}, true},
           // Redirected: somewhere else, even on the listener's port number.
           Case{{"203.0.113.5", 8888, false}, listener, false},
           Case{{"203.0.113.5", 80, false}, listener, false},
           Case{{"10.231.0.1", 8889, false}, listener, false},
           Case{{"2001:db8::5", 8888, true}, {"fd31::1", 8888, true}, false},
       }) {
    EXPECT_EQ(is_own_listener(c.original, c.local), c.loop)
        << c.original.address << ":" << c.original.port;
  }
}

}  // namespace
