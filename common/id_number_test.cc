// Tests for common/id_number.h: GB 11643 validation (check character computed by hand below),
// and the masked forms that logs may show.
//
// Check characters (ISO 7064 MOD 11-2): weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, the
// weighted sum mod 11 indexes "10X98765432".
//   36010219900307123: 3·7+6·9+0·10+1·5+0·8+2·4+1·2+9·1+9·6+0·3+0·7+3·9+0·10+7·5+1·8+2·4+3·2
//                    = 21+54+0+5+0+8+2+9+54+0+0+27+0+35+8+8+6 = 237; 237 mod 11 = 6 → '6'
//   11010519491231002: sum 167; 167 mod 11 = 2 → 'X' (the standard's own example)
//   36010219900307009: sum 233; 233 mod 11 = 2 → 'X'
//   50010320000229001: sum 141; 141 mod 11 = 9 → '3'
//   21010219700615004: sum 186; 186 mod 11 = 10 → '2'
#include "common/id_number.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kValidDigit[] = "360102199003071236";
constexpr char kValidX[] = "11010519491231002X";
constexpr char kValidX2[] = "36010219900307009X";
constexpr char kValidLeapDay[] = "500103200002290013";  // born 2000-02-29
constexpr char kValidOther[] = "210102197006150042";

TEST(IdNumberCheckCharacterTest, MatchesHandComputedValues) {
  EXPECT_EQ(IdNumberCheckCharacter("36010219900307123"), '6');
  EXPECT_EQ(IdNumberCheckCharacter("11010519491231002"), 'X');
  EXPECT_EQ(IdNumberCheckCharacter("36010219900307009"), 'X');
  EXPECT_EQ(IdNumberCheckCharacter("50010320000229001"), '3');
  EXPECT_EQ(IdNumberCheckCharacter("21010219700615004"), '2');
  // All zeros except weights: "00000000000000001" → sum 2 → 'X'; "10000000000000000" → 7 → '5'.
  EXPECT_EQ(IdNumberCheckCharacter("00000000000000001"), 'X');
  EXPECT_EQ(IdNumberCheckCharacter("10000000000000000"), '5');
}

TEST(ValidateIdNumberTest, AcceptsValidNumbers) {
  for (const char* id : {kValidDigit, kValidX, kValidX2, kValidLeapDay, kValidOther}) {
    EXPECT_TRUE(ValidateIdNumber(id).ok()) << id << ": " << ValidateIdNumber(id);
  }
}

TEST(ValidateIdNumberTest, AcceptsLowercaseX) {
  EXPECT_TRUE(ValidateIdNumber("11010519491231002x").ok());
  EXPECT_TRUE(ValidateIdNumber("36010219900307009x").ok());
}

TEST(ValidateIdNumberTest, RejectsWrongCheckCharacter) {
  for (const char* id : {"360102199003071237", "360102199003071230", "36010219900307123X",
                         "110105194912310021", "11010519491231002Y", "500103200002290012"}) {
    const absl::Status status = ValidateIdNumber(id);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_THAT(status.message(), HasSubstr("check character")) << id;
  }
}

TEST(ValidateIdNumberTest, RejectsWrongLength) {
  for (const char* id : {"36010219900307123", "3601021990030712366", "", "X"}) {
    const absl::Status status = ValidateIdNumber(id);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_THAT(status.message(), HasSubstr("18 characters")) << id;
  }
}

TEST(ValidateIdNumberTest, RejectsLettersAmongTheFirst17) {
  for (const char* id : {"A60102199003071236", "3601021990030X1236", "36010219900307123X6",
                         "36010219900307 236", "3601021990030712X6"}) {
    const absl::Status status = ValidateIdNumber(id);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << id;
  }
  // An X in position 17 (the last digit of the sequence) is a digit error, named as such.
  const absl::Status status = ValidateIdNumber("3601021990030712X6");
  EXPECT_THAT(status.message(), HasSubstr("character 17 must be a digit"));
}

// Builds a number with a correct check character around a chosen birth date, so only the
// date can be wrong.
std::string WithBirthDate(const std::string& yyyymmdd) {
  const std::string first17 = "360102" + yyyymmdd + "123";
  return first17 + IdNumberCheckCharacter(first17);
}

TEST(ValidateIdNumberTest, RejectsInvalidBirthDates) {
  for (const char* date : {"19900230",   // 30 February
                           "19901301",   // month 13
                           "19900001",   // month 0
                           "19900100",   // day 0
                           "19900431",   // 31 April
                           "19000229",   // 1900 is not a leap year
                           "20230229",   // 2023 is not a leap year
                           "18991231"})  // before 1900
  {
    const absl::Status status = ValidateIdNumber(WithBirthDate(date));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << date;
    EXPECT_THAT(status.message(), HasSubstr("birth date")) << date;
  }
}

TEST(ValidateIdNumberTest, AcceptsRealEdgeBirthDates) {
  for (const char* date : {"20000229", "20240229", "19000101", "19991231"}) {
    EXPECT_TRUE(ValidateIdNumber(WithBirthDate(date)).ok()) << date;
  }
}

TEST(ValidateIdNumberTest, RejectsRegionStartingWith00) {
  const std::string first17 = "00010219900307123";
  const absl::Status status = ValidateIdNumber(first17 + IdNumberCheckCharacter(first17));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("region"));
}

TEST(ValidateIdNumberTest, MessagesNeverEchoTheNumber) {
  const std::string bad[] = {
      "360102199003071237",   // check character
      "36010219900307123",    // 17 characters
      "3601021990030712366",  // 19 characters
      "3601021990A307123X",   // letter
      WithBirthDate("19900230"),
      WithBirthDate("19901301"),
  };
  for (const std::string& id : bad) {
    const absl::Status status = ValidateIdNumber(id);
    ASSERT_FALSE(status.ok()) << id;
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(id))) << id;
    // Not even the 17-digit body or the 8-digit birth date.
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(id.substr(0, 17)))) << id;
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(id.substr(6, 8)))) << id;
  }
}

TEST(MaskIdNumberTest, KeepsFirstSixAndLastFour) {
  EXPECT_EQ(MaskIdNumber(kValidDigit), "360102********1236");
  EXPECT_EQ(MaskIdNumber(kValidX), "110105********002X");
  EXPECT_EQ(MaskIdNumber(kValidX).size(), 18u);
}

TEST(MaskIdNumberTest, ShortInputs) {
  EXPECT_EQ(MaskIdNumber(""), "");
  EXPECT_EQ(MaskIdNumber("123456789"), "*********");  // < 10: fully masked
  EXPECT_EQ(MaskIdNumber("1234567890"), "1234567890");  // 6 + 4, nothing in between
  EXPECT_EQ(MaskIdNumber("12345678901"), "123456*8901");
}

TEST(MaskNameTest, ChineseNames) {
  EXPECT_EQ(MaskName("张"), "张");
  EXPECT_EQ(MaskName("张三"), "张*");
  EXPECT_EQ(MaskName("王小明"), "王**");
  EXPECT_EQ(MaskName("欧阳"), "欧*");
  EXPECT_EQ(MaskName("欧阳娜娜"), "欧***");
}

TEST(MaskNameTest, AsciiAndMixed) {
  EXPECT_EQ(MaskName(""), "");
  EXPECT_EQ(MaskName("A"), "A");
  EXPECT_EQ(MaskName("Alice"), "A****");
  EXPECT_EQ(MaskName("Li Lei"), "L*****");
  EXPECT_EQ(MaskName("Zé"), "Z*");     // 'é' is one 2-byte character
  EXPECT_EQ(MaskName("李Lei"), "李***");  // 4 characters
}

TEST(MaskNameTest, TruncatedUtf8DoesNotReadPastTheEnd) {
  // "张" is E5 BC A0; cut after two bytes, the first character is what is there.
  const std::string truncated("\xE5\xBC", 2);
  EXPECT_EQ(MaskName(truncated), truncated);
  const std::string name_then_cut = std::string("王") + std::string("\xE5", 1);
  EXPECT_EQ(MaskName(name_then_cut), "王*");
}

}  // namespace
}  // namespace yidi
