#include "pool/snapshot_entries.hpp"

#include <stdexcept>
#include <utility>

namespace ipm::pool {

void SnapshotEntries::push_back(SnapshotEntry e) {
  if (chunks_.empty() || chunks_.back()->size() == kChunk) {
    auto chunk = std::make_shared<Chunk>();
    chunk->reserve(kChunk);
    chunk->push_back(std::move(e));
    chunks_.push_back(std::move(chunk));
  } else {
    auto chunk = std::make_shared<Chunk>(*chunks_.back());
    chunk->push_back(std::move(e));
    chunks_.back() = std::move(chunk);
  }
  ++size_;
}

void SnapshotEntries::push_chunk(std::shared_ptr<const Chunk> chunk) {
  // operator[] finds entry i in chunk i / kChunk: only the last chunk may be short.
  if ((!chunks_.empty() && chunks_.back()->size() != kChunk) || chunk->size() > kChunk)
    throw std::logic_error("SnapshotEntries::push_chunk: only the last chunk may be short");
  size_ += chunk->size();
  chunks_.push_back(std::move(chunk));
}

}  // namespace ipm::pool
