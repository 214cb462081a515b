#include "common/id_number.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/status_macros.h"

namespace yidi {
namespace {
constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
constexpr char kCheckCharacters[] = "10X98765432";
}  // namespace

char IdNumberCheckCharacter(absl::string_view first17) {
  YIDI_CHECK(first17.size() == 17, "the check character covers 17 digits");
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    YIDI_CHECK(absl::ascii_isdigit(first17[i]), "the first 17 characters are digits");
    sum += (first17[i] - '0') * kWeights[i];
  }
  return kCheckCharacters[sum % 11];
}

absl::Status ValidateIdNumber(absl::string_view id_number) {
  if (id_number.size() != 18) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be 18 characters, got ", id_number.size()));
  }
  for (int i = 0; i < 17; ++i) {
    if (!absl::ascii_isdigit(id_number[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("character ", i + 1, " must be a digit"));
    }
  }
  int year = 0, month = 0, day = 0;
  (void)absl::SimpleAtoi(id_number.substr(6, 4), &year);
  (void)absl::SimpleAtoi(id_number.substr(10, 2), &month);
  (void)absl::SimpleAtoi(id_number.substr(12, 2), &day);
  const absl::CivilDay birth(year, month, day);
  if (year < 1900 || birth.year() != year || birth.month() != month || birth.day() != day) {
    return absl::InvalidArgumentError("characters 7-14 are not a valid birth date");
  }
  if (id_number.substr(0, 2) == "00") {
    return absl::InvalidArgumentError("characters 1-6 are not a region code");
  }
  const char expected = IdNumberCheckCharacter(id_number.substr(0, 17));
  const char actual = absl::ascii_toupper(id_number[17]);
  if (actual != expected) {
    return absl::InvalidArgumentError("check character (GB 11643) does not match");
  }
  return absl::OkStatus();
}

std::string MaskIdNumber(absl::string_view id_number) {
  if (id_number.size() < 10) return std::string(id_number.size(), '*');
  return absl::StrCat(id_number.substr(0, 6), std::string(id_number.size() - 10, '*'),
                      id_number.substr(id_number.size() - 4));
}

std::string MaskName(absl::string_view name) {
  std::string masked;
  size_t i = 0;
  bool first = true;
  while (i < name.size()) {
    const unsigned char lead = static_cast<unsigned char>(name[i]);
    size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : 4;
    if (i + length > name.size()) length = name.size() - i;
    if (first) {
      masked.append(name.data() + i, length);
      first = false;
    } else {
      masked.push_back('*');
    }
    i += length;
  }
  return masked;
}

}  // namespace yidi
