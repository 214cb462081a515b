// Row accessors, the URL helper and OpenStore: the one place a URL scheme picks a backend.
#include "common/store/store.h"

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "common/store/mysql_store.h"
#include "common/store/sqlite_store.h"

namespace yidi {
namespace {

// Debian's Abseil is built with its own absl::string_view, not std::string_view, so StrCat
// takes no std::string_view directly.
absl::string_view AsAbsl(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace

bool Row::IsNull(size_t i) const {
  return std::holds_alternative<std::monostate>(Value(i));
}

int64_t Row::Int(size_t i) const {
  const SqlValue& value = Value(i);
  if (std::holds_alternative<std::monostate>(value)) return 0;
  YIDI_CHECK(std::holds_alternative<int64_t>(value),
             "Row::Int on a text column: the caller's SQL and its reading disagree");
  return std::get<int64_t>(value);
}

const std::string& Row::Text(size_t i) const {
  // A static so that NULL can be returned by reference; never modified.
  static const std::string* const kEmpty = new std::string();
  const SqlValue& value = Value(i);
  if (std::holds_alternative<std::monostate>(value)) return *kEmpty;
  YIDI_CHECK(std::holds_alternative<std::string>(value),
             "Row::Text on an integer column: the caller's SQL and its reading disagree");
  return std::get<std::string>(value);
}

const SqlValue& Row::Value(size_t i) const {
  YIDI_CHECK(i < values_.size(), "column index within the row: the query selects fewer columns");
  return values_[i];
}

std::string MaskUrlPassword(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const size_t userinfo_begin = scheme_end + 3;
  // The last '@' rather than the first '/' ends the user-info: a password may hold '/', and
  // masking too much is harmless where masking too little leaks the secret.
  const size_t at = url.rfind('@');
  if (at == std::string_view::npos || at < userinfo_begin) return std::string(url);
  const size_t colon = url.find(':', userinfo_begin);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return absl::StrCat(AsAbsl(url.substr(0, colon + 1)), "***", AsAbsl(url.substr(at)));
}

absl::StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view url) {
  constexpr std::string_view kSqliteMemory = "sqlite::memory:";
  constexpr std::string_view kSqliteFilePrefix = "sqlite://";
  constexpr std::string_view kMysqlPrefix = "mysql://";

  if (url == kSqliteMemory) {
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::OpenInMemory(url));
    return std::unique_ptr<Store>(std::move(store));
  }
  if (url.starts_with(kSqliteFilePrefix)) {
    const std::string_view path = url.substr(kSqliteFilePrefix.size());
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::OpenFile(url, path));
    return std::unique_ptr<Store>(std::move(store));
  }
  if (url.starts_with(kMysqlPrefix)) {
    ASSIGN_OR_RETURN(std::unique_ptr<MysqlStore> store, MysqlStore::Open(url));
    return std::unique_ptr<Store>(std::move(store));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "store URL '", MaskUrlPassword(url),
      "' has an unknown scheme; expected sqlite:///abs/path.db, sqlite://relative/path.db, "
      "sqlite::memory: or mysql://user:password@host:port/database"));
}

}  // namespace yidi
