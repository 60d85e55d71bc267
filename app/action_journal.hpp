#pragma once

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "pool/operator_action.hpp"

namespace ipm::app {

/// Operator actions that survive a restart: STATE_DIR/actions.journal, one JSON object per
/// line, each appended and fsync'd before the API answers. At startup the journal is read,
/// compacted to what is still in force (an atomic rewrite: temporary file, fsync, rename,
/// fsync of the directory) and replayed into the engine before any traffic.
/// A journal with a line that does not parse (a torn write, an edit by hand) is renamed
/// aside to actions.journal.corrupt-<unix time>, reported, and never fatal: the lines that
/// parsed are kept. Thread-safe.
class ActionJournal {
 public:
  /// What load() found: the actions in order, and the problems to report.
  struct Loaded {
    std::vector<pool::OperatorAction> actions;
    std::vector<std::string> problems;
  };

  explicit ActionJournal(std::filesystem::path state_dir);
  ActionJournal(const ActionJournal&) = delete;
  ActionJournal& operator=(const ActionJournal&) = delete;

  /// Reads the journal (none yet: nothing). Creates state_dir when missing; throws
  /// std::runtime_error naming the path when it cannot.
  Loaded load();
  /// Replaces the journal with `actions`, atomically. Throws std::runtime_error.
  void rewrite(const std::vector<pool::OperatorAction>& actions);
  /// Start-up's compaction: rewrite()s the journal with `kept` when it differs from what
  /// load() returned (`loaded`: actions no longer in force, a journal set aside); else only
  /// opens it for appending, which is all later actions need, so that a start with nothing
  /// to compact writes and fsyncs nothing (12-80 ms of a replay's start on a slow disk).
  /// Throws std::runtime_error naming the file it cannot write.
  void compact(const Loaded& loaded, const std::vector<pool::OperatorAction>& kept);
  /// Appends one action and fsyncs it. Throws std::runtime_error naming the file.
  void append(const pool::OperatorAction& action);

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path path_;
  std::mutex mutex_;
};

/// One journal line (without '\n') and back; parse throws std::runtime_error saying why.
std::string to_journal_line(const pool::OperatorAction& action);
pool::OperatorAction from_journal_line(std::string_view line);

}  // namespace ipm::app
