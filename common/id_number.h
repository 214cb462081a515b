// Resident ID numbers (公民身份号码, GB 11643-1999) and what logs may show of a person.
// Persons are keyed by the 18-character ID within an insured region; logs show only the first
// 6 and last 4 characters, and only the first character of a name.
#ifndef YIDI_COMMON_ID_NUMBER_H_
#define YIDI_COMMON_ID_NUMBER_H_

#include <string>

#include "absl/strings/string_view.h"
#include <string_view>

#include "absl/status/status.h"

namespace yidi {

// OK when `id_number` is 18 characters: 17 digits (6-digit region, valid 8-digit birth date,
// 3-digit sequence) and the ISO 7064 MOD 11-2 check character (0-9 or X). Otherwise
// INVALID_ARGUMENT whose message says which part is wrong (never echoing the whole number).
absl::Status ValidateIdNumber(absl::string_view id_number);

// The check character for the first 17 digits. REQUIRES: 17 ASCII digits.
char IdNumberCheckCharacter(absl::string_view first17);

// "360102********123X": first 6 and last 4 kept. Anything shorter than 10 is fully masked.
std::string MaskIdNumber(absl::string_view id_number);

// "张*" / "欧阳**": the first UTF-8 character kept, one '*' per further character.
std::string MaskName(absl::string_view name);

}  // namespace yidi

#endif  // YIDI_COMMON_ID_NUMBER_H_
