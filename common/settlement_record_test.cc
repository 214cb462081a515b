// settlement_record at a hop: the insured region's result decides the insurance type, which the
// clearing uses to file each settlement under 职工 or 居民 (附件14-2 / 14-3).
#include "common/settlement_record.h"

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using yidi::v1::INSURANCE_TYPE_EMPLOYEE;
using yidi::v1::INSURANCE_TYPE_RESIDENT;
using yidi::v1::INSURANCE_TYPE_UNSPECIFIED;

class SettlementRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore("sqlite::memory:");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate(CommonMigrations()).ok());
  }

  // What the column holds, read directly (the clearing reads the column, not the result).
  int64_t StoredType(const std::string& id) {
    auto tx = store_->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto rows = (*tx)->Query("SELECT insurance_type FROM settlement_record WHERE settlement_id = ?",
                             {id});
    EXPECT_TRUE(rows.ok() && rows->size() == 1);
    return rows.ok() && rows->size() == 1 ? rows->front().Int(0) : -1;
  }

  void Insert(const SettlementRecord& record, const yidi::v1::SettlementResult* result) {
    auto tx = store_->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    SettlementRecord copy = record;
    if (result != nullptr) copy.result = *result;
    ASSERT_TRUE(InsertSettlementRecord(**tx, copy, absl::UnixEpoch()).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  void Update(const std::string& id, const yidi::v1::SettlementResult& result) {
    auto tx = store_->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(UpdateSettlementRecord(**tx, id, yidi::v1::SETTLEMENT_STATE_SETTLED, &result,
                                       absl::UnixEpoch())
                    .ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  static SettlementRecord Pending(const std::string& id, yidi::v1::InsuranceType type) {
    SettlementRecord record;
    record.settlement_id = id;
    record.request_digest = "d";
    record.insured_region = "360100";
    record.treatment_region = "500000";
    record.institution_code = "H50000000001";
    record.insurance_type = type;
    return record;
  }

  static yidi::v1::SettlementResult ResultOf(yidi::v1::InsuranceType type) {
    yidi::v1::SettlementResult result;
    result.set_insurance_type(type);
    result.set_settlement_date("2026-10-08");
    result.set_total_fen(10000);
    result.set_cash_fen(10000);
    return result;
  }

  std::unique_ptr<Store> store_;
};

TEST_F(SettlementRecordTest, TheResultFillsATypeTheRequestDidNotCarry) {
  Insert(Pending("S-1", INSURANCE_TYPE_UNSPECIFIED), nullptr);
  EXPECT_EQ(StoredType("S-1"), 0);
  Update("S-1", ResultOf(INSURANCE_TYPE_RESIDENT));
  EXPECT_EQ(StoredType("S-1"), INSURANCE_TYPE_RESIDENT);
}

TEST_F(SettlementRecordTest, TheResultDecidesWhenTheRequestSaidOtherwise) {
  Insert(Pending("S-2", INSURANCE_TYPE_EMPLOYEE), nullptr);
  Update("S-2", ResultOf(INSURANCE_TYPE_RESIDENT));
  EXPECT_EQ(StoredType("S-2"), INSURANCE_TYPE_RESIDENT);
}

TEST_F(SettlementRecordTest, AResultWithoutATypeKeepsTheRecordedOne) {
  Insert(Pending("S-3", INSURANCE_TYPE_EMPLOYEE), nullptr);
  Update("S-3", ResultOf(INSURANCE_TYPE_UNSPECIFIED));
  EXPECT_EQ(StoredType("S-3"), INSURANCE_TYPE_EMPLOYEE);
}

TEST_F(SettlementRecordTest, AnInsertWithItsResultTakesTheResultsType) {
  const auto result = ResultOf(INSURANCE_TYPE_RESIDENT);
  Insert(Pending("S-4", INSURANCE_TYPE_UNSPECIFIED), &result);
  EXPECT_EQ(StoredType("S-4"), INSURANCE_TYPE_RESIDENT);
  Insert(Pending("S-5", INSURANCE_TYPE_EMPLOYEE), nullptr);
  EXPECT_EQ(StoredType("S-5"), INSURANCE_TYPE_EMPLOYEE);
}

}  // namespace
}  // namespace yidi
