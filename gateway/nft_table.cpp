#include "gateway/nft_table.hpp"

#include <nftables/libnftables.h>

#include <stdexcept>

namespace ipm::gateway {

NftTable::NftTable() : ctx_(::nft_ctx_new(NFT_CTX_DEFAULT)) {
  if (ctx_ == nullptr)
    throw std::runtime_error("nftables: cannot create a context");
  ::nft_ctx_buffer_output(ctx_);
  ::nft_ctx_buffer_error(ctx_);
}

NftTable::~NftTable() {
  if (installed_) {
    try {
      remove();
    } catch (const std::exception&) {
      // Nothing more can be done here; a leftover is replaced at the next start.
    }
  }
  ::nft_ctx_free(ctx_);
}

std::string NftTable::run(const std::string& script) {
  const int rc = ::nft_run_cmd_from_buffer(ctx_, script.c_str());
  const std::string output = ::nft_ctx_get_output_buffer(ctx_);
  const std::string error = ::nft_ctx_get_error_buffer(ctx_);
  if (rc != 0)
    throw std::runtime_error("nftables: " + (error.empty() ? std::string("failed") : error));
  return output;
}

void NftTable::install(const FirewallPlan& plan) {
  run(nft_install_script(plan));
  installed_ = true;
}

void NftTable::remove() {
  run(nft_remove_script());
  installed_ = false;
}

std::string NftTable::ruleset() {
  return run("list ruleset");
}

}  // namespace ipm::gateway
