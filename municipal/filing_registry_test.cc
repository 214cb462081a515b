// Tests for municipal/filing_registry.h on an in-memory SQLite database with Shenyang's demo
// persons and filing rules (Liaoning, 003_8507b755cfadb9d9.txt) and an injected clock at
// 2026-11-23 10:00 CST: idempotency by request_id, nothing stored on bad input, the upload row
// written with every change, one filing at a time, changes of treatment region, undertakings
// that lapse, chronic-disease eligibility.
#include "municipal/filing_registry.h"

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/filing_index.h"
#include "common/outbox.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "municipal/filing_store.h"
#include "municipal/insured_registry.h"

namespace yidi::municipal {
namespace {

using ::testing::HasSubstr;
using C = absl::StatusCode;

constexpr char kS2[] = "210103198708260263";  // no filing
constexpr char kS3[] = "210105195512120372";  // relocated retiree → Chongqing since 2022
constexpr char kS6[] = "210105195010170628";  // no filing

std::string Demo(const std::string& file) {
  return absl::StrCat(YIDI_SOURCE_DIR, "/deploy/demo/", file);
}

class FilingRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    yidi::v1::NodeConfig config;
    ASSERT_TRUE(LoadTextProtoFile(Demo("municipal_210100.textproto"), &config).ok());
    config.set_database_url("sqlite::memory:");
    config.clear_security();  // no TLS in a unit test (the demo's certificates are generated)
    config.mutable_security()->set_allow_plaintext(true);
    yidi::v1::Directory directory;
    ASSERT_TRUE(LoadTextProtoFile(Demo("directory.textproto"), &directory).ok());
    auto context = MakeNodeContext(config, directory, Demo(""), Demo(""), &clock_,
                                   MunicipalMigrations());
    ASSERT_TRUE(context.ok()) << context.status();
    context_ = *std::move(context);
    ASSERT_TRUE(LoadTextProtoFile(Demo("filing_rules_210100.textproto"), &rules_).ok());
    yidi::v1::PersonRegistry persons;
    ASSERT_TRUE(LoadTextProtoFile(Demo("persons_210100.textproto"), &persons).ok());
    ASSERT_TRUE(SeedRegistry(*context_->store, persons, "210100", clock_.Now()).ok());
    registry_ = std::make_unique<FilingRegistry>(context_.get(), &rules_, [this] { ++commits_; });
  }

  yidi::v1::CreateFilingRequest Temporary(const std::string& request_id, const char* id_number) {
    yidi::v1::CreateFilingRequest request;
    request.set_request_id(request_id);
    request.set_id_number(id_number);
    request.set_insured_region("210100");
    request.set_category(yidi::v1::FILING_CATEGORY_OTHER_TEMPORARY_TRAVELLER);
    request.set_treatment_region("500000");
    request.set_end_date("2027-06-30");
    request.add_materials(yidi::v1::FILING_MATERIAL_IDENTITY);
    return request;
  }

  // Counts of what a write leaves behind.
  struct Counts {
    int64_t filings;
    int64_t requests;
    int64_t outbox;
    bool operator==(const Counts& o) const {
      return filings == o.filings && requests == o.requests && outbox == o.outbox;
    }
  };
  Counts Count() {
    auto tx = context_->store->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto count = [&](const char* sql) { return (*(*tx)->Query(sql)).front().Int(0); };
    return {count("SELECT COUNT(*) FROM filing"), count("SELECT COUNT(*) FROM filing_request"),
            count("SELECT COUNT(*) FROM outbox")};
  }

  std::vector<yidi::v1::Filing> FilingsOf(const char* id_number) {
    yidi::v1::ListFilingsRequest request;
    request.set_id_number(id_number);
    request.set_insured_region("210100");
    auto list = registry_->List(request);
    EXPECT_TRUE(list.ok()) << list.status();
    return {list->filings().begin(), list->filings().end()};
  }

  FakeClock clock_{absl::FromCivil(absl::CivilSecond(2026, 11, 23, 10, 0, 0),
                                   ChinaStandardTime())};
  std::unique_ptr<NodeContext> context_;
  yidi::v1::FilingRules rules_;
  std::unique_ptr<FilingRegistry> registry_;
  std::atomic<int> commits_{0};
};

TEST_F(FilingRegistryTest, SeededFilingsAreQueuedForUpload) {
  // Four demo filings of Shenyang, version 1, each with its upload row, and the two chronic
  // diseases the persons file lists, seeded as eligibility records with theirs (D604).
  const Counts counts = Count();
  EXPECT_EQ(counts.filings, 4);
  EXPECT_EQ(counts.outbox, 4 + 2);
  EXPECT_EQ(FilingsOf(kS3).front().version(), 1);
}

TEST_F(FilingRegistryTest, CreateIsIdempotentByRequestId) {
  const Counts before = Count();
  auto created = registry_->Create(Temporary("app-1", kS2));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->replayed());
  const yidi::v1::Filing& filing = created->filing();
  EXPECT_EQ(filing.filing_id(), "F210100-20261123-000001");
  EXPECT_EQ(filing.version(), 1);
  EXPECT_EQ(filing.start_date(), "2026-11-23");
  EXPECT_EQ(filing.updated_at(), "2026-11-23T10:00:00+08:00");
  EXPECT_EQ(commits_.load(), 1);
  const Counts after = Count();
  EXPECT_EQ(after.filings, before.filings + 1);
  EXPECT_EQ(after.outbox, before.outbox + 1);  // the upload, in the same transaction
  EXPECT_EQ(after.requests, before.requests + 1);

  // The same request again: the stored answer, nothing new.
  auto replay = registry_->Create(Temporary("app-1", kS2));
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->replayed());
  EXPECT_EQ(replay->filing().filing_id(), filing.filing_id());
  EXPECT_TRUE(Count() == after);
  // The same id for another request: ALREADY_EXISTS naming the field.
  yidi::v1::CreateFilingRequest other = Temporary("app-1", kS2);
  other.set_end_date("2027-07-31");
  auto reused = registry_->Create(other);
  EXPECT_EQ(reused.status().code(), C::kAlreadyExists);
  EXPECT_THAT(reused.status().message(), HasSubstr("request_id"));
  // The id of a create reused for a cancellation is another request too.
  yidi::v1::CancelFilingRequest cancel;
  cancel.set_request_id("app-1");
  cancel.set_filing_id(filing.filing_id());
  cancel.set_id_number(kS2);
  cancel.set_insured_region("210100");
  cancel.set_reason(yidi::v1::FILING_CANCEL_REASON_REQUESTED);
  EXPECT_EQ(registry_->Cancel(cancel).status().code(), C::kAlreadyExists);
  EXPECT_TRUE(Count() == after);
}

TEST_F(FilingRegistryTest, BadInputStoresNothing) {
  const Counts before = Count();
  struct Case {
    const char* name;
    void (*mutate)(yidi::v1::CreateFilingRequest&);
    C code;
    const char* part;
  };
  const Case cases[] = {
      {"invalid ID number",
       [](yidi::v1::CreateFilingRequest& r) { r.set_id_number("210103198708260264"); },
       C::kInvalidArgument, "id_number"},
      {"unknown region", [](yidi::v1::CreateFilingRequest& r) { r.set_treatment_region("440300"); },
       C::kInvalidArgument, "treatment_region"},
      {"a hospital", [](yidi::v1::CreateFilingRequest& r) {
         r.set_treatment_region("H50000000001");
       }, C::kInvalidArgument, "never a hospital"},
      {"dates in the wrong order",
       [](yidi::v1::CreateFilingRequest& r) {
         r.set_start_date("2026-12-01");
         r.set_end_date("2026-11-30");
       },
       C::kInvalidArgument, "before start_date"},
      {"a category not offered",
       [](yidi::v1::CreateFilingRequest& r) {
         r.set_category(yidi::v1::FILING_CATEGORY_EMERGENCY_PATIENT);
       },
       C::kInvalidArgument, "does not offer"},
      {"another insured region",
       [](yidi::v1::CreateFilingRequest& r) { r.set_insured_region("360100"); },
       C::kInvalidArgument, "insured_region"},
      {"no request id", [](yidi::v1::CreateFilingRequest& r) { r.set_request_id(""); },
       C::kInvalidArgument, "request_id"},
      {"not a person of the region",
       [](yidi::v1::CreateFilingRequest& r) { r.set_id_number("360103198209230249"); },
       C::kNotFound, "id_number"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    yidi::v1::CreateFilingRequest request =
        Temporary(absl::StrCat("bad-", std::string(1, c.name[0])), kS2);
    c.mutate(request);
    auto result = registry_->Create(request);
    EXPECT_EQ(result.status().code(), c.code) << result.status();
    EXPECT_THAT(result.status().message(), HasSubstr(c.part));
  }
  EXPECT_TRUE(Count() == before);
  EXPECT_EQ(commits_.load(), 0);
  // A refused request_id stays free: fixed, the same id goes through.
  yidi::v1::CreateFilingRequest fixed = Temporary("bad-i", kS2);
  EXPECT_TRUE(registry_->Create(fixed).ok());
}

TEST_F(FilingRegistryTest, SuspendedPersonFilesNothing) {
  {
    auto tx = context_->store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->Execute("UPDATE insured_person SET status = 2 WHERE id_number = ?",
                               {std::string(kS2)}).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  auto result = registry_->Create(Temporary("s-1", kS2));
  EXPECT_EQ(result.status().code(), C::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("SUSPENDED"));
}

TEST_F(FilingRegistryTest, OneFilingAtATime) {
  ASSERT_TRUE(registry_->Create(Temporary("o-1", kS2)).ok());
  yidi::v1::CreateFilingRequest second = Temporary("o-2", kS2);
  second.set_treatment_region("360100");
  auto refused = registry_->Create(second);
  EXPECT_EQ(refused.status().code(), C::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("one filing at a time"));
  // After it ends: accepted.
  second.set_request_id("o-3");
  second.set_start_date("2027-07-01");
  second.set_end_date("2027-12-31");
  EXPECT_TRUE(registry_->Create(second).ok());
}

TEST_F(FilingRegistryTest, ChangeOfTreatmentRegionClosesAndOpens) {
  const std::string old_id = FilingsOf(kS3).front().filing_id();  // since 2022: lock passed
  const Counts before = Count();
  yidi::v1::ChangeFilingRequest change;
  change.set_request_id("c-1");
  change.set_filing_id(old_id);
  change.set_id_number(kS3);
  change.set_insured_region("210100");
  change.set_treatment_region("360100");
  auto changed = registry_->Change(change);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->previous().filing_id(), old_id);
  EXPECT_TRUE(changed->previous().cancelled());
  EXPECT_EQ(changed->previous().cancelled_on(), "2026-11-23");
  EXPECT_EQ(changed->previous().version(), 2);
  EXPECT_EQ(changed->filing().treatment_region(), "360100");
  EXPECT_EQ(changed->filing().replaces_filing_id(), old_id);
  EXPECT_EQ(changed->filing().version(), 1);
  const Counts after = Count();
  EXPECT_EQ(after.filings, before.filings + 1);
  EXPECT_EQ(after.outbox, before.outbox + 2);  // the closed one and the new one

  // Now inside the 6-month lock (003 第10条(二)): a further move is refused, nothing stored.
  yidi::v1::ChangeFilingRequest again;
  again.set_request_id("c-2");
  again.set_filing_id(changed->filing().filing_id());
  again.set_id_number(kS3);
  again.set_insured_region("210100");
  again.set_treatment_region("500000");
  auto locked = registry_->Change(again);
  EXPECT_EQ(locked.status().code(), C::kFailedPrecondition);
  EXPECT_THAT(locked.status().message(), HasSubstr("2027-05-23"));
  EXPECT_TRUE(Count() == after);
  // Six months on, it goes.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 5, 23, 9, 0, 0), ChinaStandardTime()));
  EXPECT_TRUE(registry_->Change(again).ok());

  // Someone else's filing id is not found.
  change.set_request_id("c-3");
  change.set_id_number(kS2);
  EXPECT_EQ(registry_->Change(change).status().code(), C::kNotFound);
}

TEST_F(FilingRegistryTest, UnmetUndertakingLapsesAndIsUploaded) {
  // S6 files as a long-term resident on an undertaking for the residence proof: 90 days.
  yidi::v1::CreateFilingRequest request;
  request.set_request_id("u-1");
  request.set_id_number(kS6);
  request.set_insured_region("210100");
  request.set_category(yidi::v1::FILING_CATEGORY_LONG_TERM_RESIDENT);
  request.set_treatment_region("500000");
  request.add_materials(yidi::v1::FILING_MATERIAL_IDENTITY);
  request.set_undertaking(true);
  auto created = registry_->Create(request);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->filing().materials_complete());
  EXPECT_EQ(created->filing().materials_due_date(), "2027-02-21");

  auto sweep = registry_->SweepLapsed();
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(*sweep, 0);  // not due yet
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 2, 22, 0, 30, 0), ChinaStandardTime()));
  const Counts before = Count();
  sweep = registry_->SweepLapsed();
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  EXPECT_EQ(*sweep, 1);
  const yidi::v1::Filing lapsed = FilingsOf(kS6).front();
  EXPECT_TRUE(lapsed.cancelled());
  EXPECT_EQ(lapsed.cancelled_on(), "2027-02-22");
  EXPECT_EQ(lapsed.cancel_reason(), yidi::v1::FILING_CANCEL_REASON_UNDERTAKING_UNMET);
  EXPECT_EQ(lapsed.version(), 2);
  EXPECT_EQ(Count().outbox, before.outbox + 1);
  EXPECT_EQ(*registry_->SweepLapsed(), 0);  // once
}

TEST_F(FilingRegistryTest, SuppliedMaterialsKeepTheFiling) {
  yidi::v1::CreateFilingRequest request;
  request.set_request_id("m-1");
  request.set_id_number(kS6);
  request.set_insured_region("210100");
  request.set_category(yidi::v1::FILING_CATEGORY_LONG_TERM_RESIDENT);
  request.set_treatment_region("500000");
  request.add_materials(yidi::v1::FILING_MATERIAL_IDENTITY);
  request.set_undertaking(true);
  auto created = registry_->Create(request);
  ASSERT_TRUE(created.ok());
  yidi::v1::ChangeFilingRequest supply;
  supply.set_request_id("m-2");
  supply.set_filing_id(created->filing().filing_id());
  supply.set_id_number(kS6);
  supply.set_insured_region("210100");
  supply.add_materials_supplied(yidi::v1::FILING_MATERIAL_PROPERTY_PROOF);
  auto supplied = registry_->Change(supply);
  ASSERT_TRUE(supplied.ok()) << supplied.status();
  EXPECT_TRUE(supplied->filing().materials_complete());
  EXPECT_EQ(supplied->filing().version(), 2);
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 6, 1, 0, 0, 0), ChinaStandardTime()));
  EXPECT_EQ(*registry_->SweepLapsed(), 0);
  EXPECT_FALSE(FilingsOf(kS6).front().cancelled());
}

TEST_F(FilingRegistryTest, CancelOnceThenReplayed) {
  auto created = registry_->Create(Temporary("x-1", kS2));
  ASSERT_TRUE(created.ok());
  yidi::v1::CancelFilingRequest cancel;
  cancel.set_request_id("x-2");
  cancel.set_filing_id(created->filing().filing_id());
  cancel.set_id_number(kS2);
  cancel.set_insured_region("210100");
  cancel.set_reason(yidi::v1::FILING_CANCEL_REASON_REQUESTED);
  auto cancelled = registry_->Cancel(cancel);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->filing().version(), 2);
  EXPECT_TRUE(registry_->Cancel(cancel)->replayed());
  cancel.set_request_id("x-3");
  EXPECT_EQ(registry_->Cancel(cancel).status().code(), C::kFailedPrecondition);

  // Checked live: filed on 2026-11-22's admission? No: it started today. Today's: no longer.
  yidi::v1::CheckFilingRequest check;
  check.set_id_number(kS2);
  check.set_insured_region("210100");
  check.set_treatment_region("500103");
  check.set_date("2026-11-23");
  auto answer = registry_->Check(check);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_FALSE(answer->filed());
  EXPECT_EQ(answer->answered_by(), "municipal 210100");
}

TEST_F(FilingRegistryTest, ChronicDiseaseEligibility) {
  yidi::v1::RecordChronicDiseaseRequest record;
  record.set_request_id("cd-1");
  record.set_id_number(kS2);
  record.set_insured_region("210100");
  record.set_disease_code("E11.9");
  record.set_disease_name("2型糖尿病");
  const Counts before = Count();
  auto recorded = registry_->RecordChronicDisease(record);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  // 000001 and 000002 are the persons file's two chronic diseases, seeded as records.
  EXPECT_EQ(recorded->eligibility().eligibility_id(), "M210100-20261123-000003");
  EXPECT_EQ(Count().outbox, before.outbox + 1);
  EXPECT_TRUE(registry_->RecordChronicDisease(record)->replayed());
  record.set_request_id("cd-2");
  EXPECT_EQ(registry_->RecordChronicDisease(record).status().code(), C::kFailedPrecondition);

  yidi::v1::RevokeChronicDiseaseRequest revoke;
  revoke.set_request_id("cd-3");
  revoke.set_eligibility_id(recorded->eligibility().eligibility_id());
  revoke.set_id_number(kS2);
  revoke.set_insured_region("210100");
  auto revoked = registry_->RevokeChronicDisease(revoke);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->eligibility().version(), 2);
  EXPECT_EQ(Count().outbox, before.outbox + 2);
}

TEST_F(FilingRegistryTest, WithoutRulesNoFilingIsTaken) {
  FilingRegistry none(context_.get(), nullptr, nullptr);
  auto result = none.Create(Temporary("n-1", kS2));
  EXPECT_EQ(result.status().code(), C::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("filing_rules_file"));
}

}  // namespace
}  // namespace yidi::municipal
