// Tests for common/filing_index.h and the receiving side of common/filing_relay.h: what a
// filing covers; an index applying uploads idempotently and in version order (a late, older
// version never overwrites a newer one); the structure an upload must have; and an outbox
// sender delivering to a real node over gRPC, including a hung parent.
#include "common/filing_index.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/filing_relay.h"
#include "common/node.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;
using yidi::v1::Filing;
using yidi::v1::FilingChange;

constexpr char kDirectoryText[] = R"pb(
  regions { code: "000000" kind: NODE_KIND_NATIONAL address: "127.0.0.1:1" }
  regions { code: "500000" kind: NODE_KIND_PROVINCIAL provincial_pooling: true address: "127.0.0.1:2" }
  regions { code: "500000" kind: NODE_KIND_MUNICIPAL provincial_pooling: true address: "127.0.0.1:3" }
  regions { code: "360000" kind: NODE_KIND_PROVINCIAL address: "127.0.0.1:4" }
  regions { code: "360100" kind: NODE_KIND_MUNICIPAL address: "127.0.0.1:5" }
  regions { code: "210000" kind: NODE_KIND_PROVINCIAL address: "127.0.0.1:6" }
  regions { code: "210100" kind: NODE_KIND_MUNICIPAL address: "127.0.0.1:7" }
)pb";
constexpr char kIdNumber[] = "360102195604120138";
constexpr absl::Duration kWaitMax = absl::Seconds(20);

yidi::v1::Directory DirectoryProto() {
  yidi::v1::Directory directory;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kDirectoryText, &directory));
  return directory;
}

const DirectoryIndex& Directory() {
  static const DirectoryIndex* const directory = [] {
    auto built = DirectoryIndex::Build(DirectoryProto());
    EXPECT_TRUE(built.ok()) << built.status();
    return new DirectoryIndex(*std::move(built));
  }();
  return *directory;
}

Filing MakeFiling(const std::string& id, int64_t version, const std::string& treatment_region) {
  Filing filing;
  filing.set_filing_id(id);
  filing.set_id_number(kIdNumber);
  filing.set_insured_region("360100");
  filing.set_category(yidi::v1::FILING_CATEGORY_OTHER_TEMPORARY_TRAVELLER);
  filing.set_treatment_region(treatment_region);
  filing.set_start_date("2026-11-01");
  filing.set_end_date("2027-04-30");
  filing.set_version(version);
  filing.set_updated_at(absl::StrCat("2026-11-23T10:00:0", version, "+08:00"));
  return filing;
}

FilingChange ChangeOf(const Filing& filing) {
  FilingChange change;
  *change.mutable_filing() = filing;
  return change;
}

std::unique_ptr<Store> OpenIndexStore() {
  auto store = OpenStore("sqlite::memory:");
  EXPECT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->Migrate(FilingIndexMigrations()).ok());
  return *std::move(store);
}

bool WaitFor(const std::function<bool()>& done) {
  const absl::Time give_up = absl::Now() + kWaitMax;
  while (absl::Now() < give_up) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

// ---------------------------------------------------------------------------------------------

TEST(FilingInForceTest, AdmissionDateDecides) {
  Filing filing = MakeFiling("F-1", 1, "210100");
  const absl::CivilDay before(2026, 10, 20);
  const absl::CivilDay during(2026, 12, 1);
  const absl::CivilDay after(2027, 5, 10);
  // Admitted within validity, discharged after it: covered (000_… 第10条).
  EXPECT_TRUE(FilingInForce(filing, "210100", during, after));
  // Filed during the stay, before discharge: covered (22号文 §二(四)).
  EXPECT_TRUE(FilingInForce(filing, "210100", before, during));
  // Filed after discharge: manual claim.
  EXPECT_FALSE(FilingInForce(filing, "210100", before, before + 3));
  // Admitted after expiry.
  EXPECT_FALSE(FilingInForce(filing, "210100", after, after));
  // Another region; a county of the region.
  EXPECT_FALSE(FilingInForce(filing, "500000", during, during));
  filing.set_treatment_region("210102");
  EXPECT_TRUE(FilingInForce(filing, "210100", during, during));
  // Cancelled from 2026-12-01: an admission before that day stays covered.
  filing.set_cancelled(true);
  filing.set_cancelled_on("2026-12-01");
  EXPECT_TRUE(FilingInForce(filing, "210100", during - 1, during + 5));
  EXPECT_FALSE(FilingInForce(filing, "210100", during, during));
}

TEST(FilingInForceTest, CareKinds) {
  EXPECT_EQ(CareKindOf(yidi::v1::MEDICAL_TYPE_INPATIENT), yidi::v1::CARE_KIND_INPATIENT);
  EXPECT_EQ(CareKindOf(yidi::v1::MEDICAL_TYPE_EMERGENCY_INPATIENT), yidi::v1::CARE_KIND_INPATIENT);
  EXPECT_EQ(CareKindOf(yidi::v1::MEDICAL_TYPE_EMERGENCY_OUTPATIENT),
            yidi::v1::CARE_KIND_OUTPATIENT);
  EXPECT_EQ(CareKindOf(yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT),
            yidi::v1::CARE_KIND_CHRONIC_OUTPATIENT);
  EXPECT_EQ(CareKindOf(yidi::v1::MEDICAL_TYPE_PHARMACY), yidi::v1::CARE_KIND_PHARMACY);
  Filing filing = MakeFiling("F-1", 1, "210100");
  EXPECT_TRUE(FilingCoversCare(filing, yidi::v1::CARE_KIND_PHARMACY));  // none listed: all
  filing.add_covered_care(yidi::v1::CARE_KIND_INPATIENT);
  EXPECT_FALSE(FilingCoversCare(filing, yidi::v1::CARE_KIND_PHARMACY));
  EXPECT_TRUE(FilingCoversCare(filing, yidi::v1::CARE_KIND_UNSPECIFIED));
}

TEST(FilingIndexTest, AppliesIdempotentlyAndInVersionOrder) {
  auto store = OpenIndexStore();
  auto apply = [&](const Filing& filing) {
    auto tx = store->Begin(TransactionMode::kWrite);
    EXPECT_TRUE(tx.ok());
    auto outcome = ApplyFilingChange(**tx, ChangeOf(filing), absl::Now());
    EXPECT_TRUE(outcome.ok()) << outcome.status();
    EXPECT_TRUE((*tx)->Commit().ok());
    return *outcome;
  };
  EXPECT_EQ(apply(MakeFiling("F-1", 2, "210100")), ApplyOutcome::kApplied);
  EXPECT_EQ(apply(MakeFiling("F-1", 2, "210100")), ApplyOutcome::kDuplicate);
  // Version 1 arrives late (it went by a slower path): ignored.
  EXPECT_EQ(apply(MakeFiling("F-1", 1, "500000")), ApplyOutcome::kStale);
  EXPECT_EQ(apply(MakeFiling("F-1", 3, "210100")), ApplyOutcome::kApplied);
  EXPECT_EQ(apply(MakeFiling("F-2", 1, "500000")), ApplyOutcome::kApplied);

  auto tx = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(tx.ok());
  auto person = ReadIndexedPerson(**tx, "360100", kIdNumber);
  ASSERT_TRUE(person.ok()) << person.status();
  ASSERT_EQ(person->filings.size(), 2u);
  EXPECT_EQ(person->filings[0].filing_id(), "F-1");
  EXPECT_EQ(person->filings[0].version(), 3);
  EXPECT_EQ(person->filings[0].treatment_region(), "210100");
  EXPECT_FALSE(person->as_of.empty());
  auto nobody = ReadIndexedPerson(**tx, "360100", "360103198209230249");
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->filings.empty());
  EXPECT_TRUE(nobody->as_of.empty());
  auto stats = ReadFilingIndexStats(**tx);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->filings, 2);
  EXPECT_EQ(stats->applied, 3);
  EXPECT_EQ(stats->duplicates, 1);
  EXPECT_EQ(stats->stale, 1);
}

TEST(FilingIndexTest, ChronicDiseasesAreIndexedBesideFilings) {
  auto store = OpenIndexStore();
  yidi::v1::ChronicDiseaseEligibility eligibility;
  eligibility.set_eligibility_id("F-1");  // same id as a filing: another kind, another row
  eligibility.set_id_number(kIdNumber);
  eligibility.set_insured_region("360100");
  eligibility.set_disease_code("I10");
  eligibility.set_start_date("2026-11-01");
  eligibility.set_version(1);
  FilingChange change;
  *change.mutable_chronic_disease() = eligibility;
  auto tx = store->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(tx.ok());
  ASSERT_EQ(*ApplyFilingChange(**tx, change, absl::Now()), ApplyOutcome::kApplied);
  ASSERT_EQ(*ApplyFilingChange(**tx, ChangeOf(MakeFiling("F-1", 1, "210100")), absl::Now()),
            ApplyOutcome::kApplied);
  auto person = ReadIndexedPerson(**tx, "360100", kIdNumber);
  ASSERT_TRUE(person.ok());
  EXPECT_EQ(person->filings.size(), 1u);
  ASSERT_EQ(person->chronic_diseases.size(), 1u);
  EXPECT_EQ(person->chronic_diseases[0].disease_code(), "I10");

  yidi::v1::CheckFilingResponse answer;
  AnswerCheckFiling(person->filings, person->chronic_diseases, "210100",
                    absl::CivilDay(2026, 12, 1), yidi::v1::CARE_KIND_INPATIENT, &answer);
  EXPECT_TRUE(answer.filed());
  EXPECT_EQ(answer.chronic_diseases_size(), 1);
}

TEST(ValidateFilingUploadTest, StructureAndReceiver) {
  const NodeIdentity jiangxi{yidi::v1::NODE_KIND_PROVINCIAL, "360000"};
  const NodeIdentity national{yidi::v1::NODE_KIND_NATIONAL, "000000"};
  yidi::v1::UploadFilingChangesRequest request;
  EXPECT_THAT(ValidateFilingUpload(request, national, Directory()).message(),
              HasSubstr("changes"));
  *request.add_changes() = ChangeOf(MakeFiling("F-1", 1, "210100"));
  EXPECT_TRUE(ValidateFilingUpload(request, jiangxi, Directory()).ok());
  EXPECT_TRUE(ValidateFilingUpload(request, national, Directory()).ok());
  // Liaoning's node receives a Jiangxi filing only when it names a Liaoning treatment region
  // (the treatment province, 003_… 第10条(五)); one naming Chongqing is not Liaoning's.
  const NodeIdentity liaoning{yidi::v1::NODE_KIND_PROVINCIAL, "210000"};
  EXPECT_TRUE(ValidateFilingUpload(request, liaoning, Directory()).ok());
  yidi::v1::UploadFilingChangesRequest to_chongqing;
  *to_chongqing.add_changes() = ChangeOf(MakeFiling("F-2", 1, "500000"));
  EXPECT_THAT(ValidateFilingUpload(to_chongqing, liaoning, Directory()).message(),
              HasSubstr("does not upload to"));
  const NodeIdentity chongqing{yidi::v1::NODE_KIND_PROVINCIAL, "500000"};
  EXPECT_TRUE(ValidateFilingUpload(to_chongqing, chongqing, Directory()).ok());
  auto broken = [&](auto mutate, const char* part) {
    yidi::v1::UploadFilingChangesRequest copy = request;
    mutate(copy.mutable_changes(0)->mutable_filing());
    const absl::Status status = ValidateFilingUpload(copy, national, Directory());
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << part;
    EXPECT_THAT(status.message(), HasSubstr(part));
  };
  broken([](Filing* f) { f->set_version(0); }, "version");
  broken([](Filing* f) { f->set_id_number("360102195604120139"); }, "id_number");
  broken([](Filing* f) { f->set_filing_id("F 1; --"); }, "record id");
  broken([](Filing* f) { f->set_insured_region("440300"); }, "insured_region");
  yidi::v1::UploadFilingChangesRequest empty_change;
  empty_change.add_changes();
  EXPECT_THAT(ValidateFilingUpload(empty_change, national, Directory()).message(),
              HasSubstr("neither"));
}

TEST(TreatmentProvinceTest, AFilingNamingAnotherProvinceGoesToThatProvince) {
  // Jiangxi insured, treated in Liaoning (a city) or Chongqing (provincial pooling): that
  // province. Within Jiangxi, or a chronic-disease record: none. Guangdong has no node: none.
  EXPECT_EQ(TreatmentProvinceOf(ChangeOf(MakeFiling("F-1", 1, "210100")), Directory()),
            std::optional<std::string>("210000"));
  EXPECT_EQ(TreatmentProvinceOf(ChangeOf(MakeFiling("F-1", 1, "500000")), Directory()),
            std::optional<std::string>("500000"));
  EXPECT_EQ(TreatmentProvinceOf(ChangeOf(MakeFiling("F-1", 1, "360700")), Directory()),
            std::nullopt);
  EXPECT_EQ(TreatmentProvinceOf(ChangeOf(MakeFiling("F-1", 1, "440300")), Directory()),
            std::nullopt);
  FilingChange chronic;
  chronic.mutable_chronic_disease()->set_insured_region("360100");
  EXPECT_EQ(TreatmentProvinceOf(chronic, Directory()), std::nullopt);
  EXPECT_EQ(TreatmentProvinceTopic("210000"), "filing-to-210000");
}

TEST(UploadRouteTest, TowardTheParent) {
  auto municipal = UploadRouteOf({yidi::v1::NODE_KIND_MUNICIPAL, "360100"}, Directory());
  ASSERT_TRUE(municipal.ok() && municipal->has_value());
  EXPECT_EQ((*municipal)->NextHopName(), "provincial 360000 (127.0.0.1:4)");
  auto chongqing = UploadRouteOf({yidi::v1::NODE_KIND_MUNICIPAL, "500000"}, Directory());
  ASSERT_TRUE(chongqing.ok() && chongqing->has_value());
  EXPECT_EQ((*chongqing)->next_region_code, "500000");
  auto provincial = UploadRouteOf({yidi::v1::NODE_KIND_PROVINCIAL, "210000"}, Directory());
  ASSERT_TRUE(provincial.ok() && provincial->has_value());
  EXPECT_EQ((*provincial)->next_region_code, "000000");
  auto top = UploadRouteOf({yidi::v1::NODE_KIND_NATIONAL, "000000"}, Directory());
  ASSERT_TRUE(top.ok());
  EXPECT_FALSE(top->has_value());
}

// ---------------------------------------------------------------------------------------------
// Over gRPC: an outbox sender delivering to a national node's RelayFilingService.

class UploadOverGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    yidi::v1::NodeConfig config;
    config.set_kind(yidi::v1::NODE_KIND_NATIONAL);
    config.set_region_code("000000");
    config.set_database_url("sqlite::memory:");
    config.mutable_security()->set_allow_plaintext(true);  // no TLS in a unit test
    config.set_forward_deadline_ms(2000);
    auto context = MakeNodeContext(config, DirectoryProto(), "/tmp", "/tmp", &clock_,
                                   FilingIndexMigrations());
    ASSERT_TRUE(context.ok()) << context.status();
    context_ = *std::move(context);
    service_ = std::make_unique<RelayFilingService>(context_.get());
    auto server = NodeServer::Start("127.0.0.1:0", {service_.get()}, 0);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    address_ = absl::StrCat("127.0.0.1:", server_->port());
    sender_store_ = OpenIndexStore();  // has an outbox table (migration 111)
  }

  void Enqueue(const Filing& filing) {
    auto tx = sender_store_->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(EnqueueFilingUpload(**tx, ChangeOf(filing), absl::Now()).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  int64_t Pending() {
    auto tx = sender_store_->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    return ReadOutboxStats(**tx, kFilingUploadTopic)->pending;
  }

  FilingIndexStats IndexStats() {
    auto tx = context_->store->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    return *ReadFilingIndexStats(**tx);
  }

  FakeClock clock_{absl::FromCivil(absl::CivilSecond(2026, 11, 23, 10, 0, 0),
                                   ChinaStandardTime())};
  std::unique_ptr<NodeContext> context_;
  std::unique_ptr<RelayFilingService> service_;
  std::unique_ptr<NodeServer> server_;
  std::string address_;
  std::unique_ptr<Store> sender_store_;
};

TEST_F(UploadOverGrpcTest, DeliversAtLeastOnceAndTheIndexCountsDuplicates) {
  Enqueue(MakeFiling("F-1", 1, "210100"));
  Enqueue(MakeFiling("F-1", 2, "210100"));
  Enqueue(MakeFiling("F-1", 1, "210100"));  // an older version queued again: stale
  Enqueue(MakeFiling("F-1", 2, "210100"));  // a redelivery: duplicate
  OutboxSender::Options options;
  options.topic = kFilingUploadTopic;
  options.name = "test upload";
  OutboxSender sender(sender_store_.get(), options,
                      MakeFilingUploadDelivery(address_, "municipal 360100"));
  sender.Start();
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }));
  const FilingIndexStats stats = IndexStats();
  EXPECT_EQ(stats.filings, 1);
  EXPECT_EQ(stats.applied, 2);
  EXPECT_EQ(stats.stale, 1);
  EXPECT_EQ(stats.duplicates, 1);
}

// A parent that accepts the call and never answers: Stop cancels the call at once.
class HungFilingService final : public yidi::v1::FilingService::CallbackService {
 public:
  grpc::ServerUnaryReactor* UploadFilingChanges(grpc::CallbackServerContext*,
                                                const yidi::v1::UploadFilingChangesRequest*,
                                                yidi::v1::UploadFilingChangesResponse*) override {
    class Reactor final : public grpc::ServerUnaryReactor {
     public:
      void OnCancel() override { Finish(grpc::Status::CANCELLED); }
      void OnDone() override { delete this; }
    };
    entered = true;
    return new Reactor();
  }
  std::atomic<bool> entered{false};
};

TEST_F(UploadOverGrpcTest, StopCancelsACallToAHungParent) {
  HungFilingService hung;
  auto server = NodeServer::Start("127.0.0.1:0", {&hung}, 0);
  ASSERT_TRUE(server.ok()) << server.status();
  Enqueue(MakeFiling("F-1", 1, "210100"));
  OutboxSender::Options options;
  options.topic = kFilingUploadTopic;
  options.name = "test upload";
  options.call_deadline = absl::Seconds(60);
  auto sender = std::make_unique<OutboxSender>(
      sender_store_.get(), options,
      MakeFilingUploadDelivery(absl::StrCat("127.0.0.1:", (*server)->port()),
                               "municipal 360100"));
  sender->Start();
  ASSERT_TRUE(WaitFor([&] { return hung.entered.load(); }));
  const absl::Time stopping = absl::Now();
  sender.reset();
  EXPECT_LT(absl::Now() - stopping, absl::Seconds(5));
  EXPECT_EQ(Pending(), 1);  // kept for the next start
}

}  // namespace
}  // namespace yidi
