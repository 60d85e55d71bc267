#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "clients/ruled_rotations.hpp"
#include "clients/source_ip_rules.hpp"
#include "pool/selector.hpp"
#include "pool/site.hpp"
#include "proxy/egress_source.hpp"
#include "strategy/shared_engine.hpp"

namespace ipm::app {

/// The proxy's EgressSource over the pool's Selector and the strategy engine: picks with the
/// configured policy, excluding what a connection already tried, and reports every dial
/// outcome to the engine at once, so a dead IP leaves rotation before nginx logs anything.
/// A request's target (the tcp client's X-Egress-Host or Host, else the destination host) is
/// grouped into its site (libpsl) only while some site has rules in the snapshot, and
/// selection then skips the IPs cooling for that site.
///
/// A client that source_ip_rules name (set_rules) gets its own smooth weighted rotation over
/// the egresses selectable for its request, each weighing the client's ratio for it (its
/// longest matching rule) or, without a rule of that egress for the client, the egress's own
/// weight; ratio 0 is never. An egress on probation weighs its probation share of that. When
/// every egress left weighs 0 for the client, it is refused: never "the first one".
/// Unruled clients get the pool's policy.
///
/// A request with a sticky key (pool::Request::key, from its front end's `sticky` mode) goes
/// to the egress that key lands on by weighted rendezvous hashing over the egresses selectable
/// for it, weighing what a rotation would give them (the client's ratios when rules name it,
/// else the egress's own weight; the probation share kept): the same key keeps its egress
/// while that one stays selectable, an egress that leaves moves only its own keys and gets
/// them back when it returns, and a weight change moves only a proportional share. A failed
/// dial moves the connection to where the key lands without the egress tried.
///
/// least_conn counts a connection from its pick to its close: the Pick lease taken in pick()
/// is held as "dialing" until the dial is reported, then as "open" until closed().
/// Thread-safe: the proxy calls it from every worker thread.
class PoolEgressSource final : public proxy::EgressSource {
 public:
  /// `grouping` groups a request's target into the site selection asks for.
  PoolEgressSource(pool::Selector& selector, strategy::SharedEngine& engine,
                   config::TargetGrouping grouping = config::TargetGrouping::site);
  PoolEgressSource(const PoolEgressSource&) = delete;
  PoolEgressSource& operator=(const PoolEgressSource&) = delete;

  std::optional<pool::Egress> pick(const pool::Request& request,
                                   std::span<const pool::Egress> tried) override;
  void report(const pool::DialOutcome& outcome) override;
  void abandoned(const pool::Egress& egress) override;
  void opened(const pool::Egress& egress) override;
  void closed(const pool::Egress& egress) override;

  /// The per-client rules in force from now on (a SIGHUP's reload); null or empty: none.
  void set_rules(std::shared_ptr<const clients::SourceIpRules> rules);
  std::shared_ptr<const clients::SourceIpRules> rules() const;

  /// While some site has rules in the snapshot (health per target).
  bool wants_target() override { return selector_.has_site_rules(); }

  /// Leases held (dialing + open); for tests.
  std::size_t leases() const;

 private:
  // Leases of one IP. Which lease is released does not matter: they count the same.
  struct Leases {
    std::vector<pool::Pick> dialing;
    std::vector<pool::Pick> open;
  };

  // The egresses a request may use now (selectable, able to serve it, not tried, not out for
  // its site unless every one is), with their positions in `snap` and the weights a rotation
  // gives them: the client's ratios when `rules` name it, else their own; probation kept.
  struct Offer {
    std::shared_ptr<const pool::Snapshot> snap;
    std::vector<std::uint32_t> indices;
    std::vector<clients::Candidate> weighted;
  };
  Offer offer(const clients::SourceIpRules* rules, const clients::ClientAddress* client,
              const pool::Request& request, std::span<const std::string> exclude) const;
  static pool::Pick pick_at(const Offer& o, std::size_t k);

  pool::Selector& selector_;
  strategy::SharedEngine& engine_;
  const pool::SiteGrouper grouper_;  // immutable, shared by every worker thread
  mutable std::mutex rules_mutex_;   // guards rules_ only (not std::atomic<shared_ptr>: TSan)
  std::shared_ptr<const clients::SourceIpRules> rules_;
  clients::RuledRotations rotations_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Leases> leases_;
};

}  // namespace ipm::app
