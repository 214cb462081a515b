// yidictl commands of the clearing cycle (ClearingCycleService; docs/CLEARING.md):
//   clearing forward --month=YYYY-MM                   at a province: national's notices → cities
//   clearing forwarded --month=YYYY-MM [CITY] [--clearing_format=csv|html] [--clearing_out=DIR]
//                                                      the cities' notices and obligations
//   clearing close-year --year=YYYY                    national or a province: close the year
//   clearing year-status --year=YYYY                   closed / overdue / what blocks it
// Forwarding and closing are idempotent: running them again creates nothing new.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/money.h"
#include "grpcpp/grpcpp.h"
#include "tools/yidictl/command.h"
#include "yidi/v1/clearing_cycle.grpc.pb.h"

// Defined in clearing_commands.cc.
ABSL_DECLARE_FLAG(std::string, month);
ABSL_DECLARE_FLAG(std::string, clearing_format);
ABSL_DECLARE_FLAG(std::string, clearing_out);

ABSL_FLAG(int, year, 0, "clearing close-year / year-status: the year YYYY");

namespace {

using Channel = std::shared_ptr<grpc::Channel>;
using Args = std::vector<std::string>;
using yidi::FormatYuan;

using yidictl::UsageError;

bool Month(std::string* month) {
  *month = absl::GetFlag(FLAGS_month);
  return month->size() == 7 && (*month)[4] == '-';
}

void PrintForwarding(const yidi::v1::ClearingForwarding& f, bool replayed) {
  std::printf("forwarding of %s at %s%s: national's notices of %s, forwarded on %s (%s)\n",
              f.clearing_month().c_str(), f.province().c_str(),
              replayed ? " (already forwarded)" : "", f.national_notices_issued_on().c_str(),
              f.forwarded_on().c_str(), f.policy_name().c_str());
  std::printf("  payable %s 元, receivable %s 元; collected money forwarded by %s\n",
              FormatYuan(f.payable_fen()).c_str(), FormatYuan(f.receivable_fen()).c_str(),
              f.forward_by().c_str());
  for (const auto& n : f.notices()) {
    std::printf("  %s %s: %s 元%s, pay by %s, obligation %s\n", n.city().c_str(),
                n.kind() == yidi::v1::FORWARDED_NOTICE_KIND_PAYMENT ? "payment" : "receipt",
                FormatYuan(n.net_fen()).c_str(), n.net_fen() < 0 ? " (*returned)" : "",
                n.pay_by().c_str(), n.obligation_id().empty() ? "-" : n.obligation_id().c_str());
    for (const auto& line : n.lines()) {
      std::printf("    %s%s %s 元\n", line.returned() ? "*" : "",
                  line.counterparty_region().c_str(), FormatYuan(line.net_fen()).c_str());
    }
  }
}

constexpr char kForwardUsage[] = "clearing forward --month=YYYY-MM";
YIDICTL_COMMAND("clearing forward", kForwardUsage, [](const Channel& channel, const Args& args) {
  std::string month;
  if (!args.empty() || !Month(&month)) return UsageError(kForwardUsage);
  yidi::v1::ForwardClearingRequest request;
  request.set_clearing_month(month);
  yidi::v1::ForwardClearingResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = yidi::v1::ClearingCycleService::NewStub(channel)->ForwardClearing(
      context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  PrintForwarding(response.forwarding(), response.replayed());
  return yidictl::kExitOk;
});

constexpr char kForwardedUsage[] =
    "clearing forwarded --month=YYYY-MM [CITY] [--clearing_format=csv|html] "
    "[--clearing_out=DIR]";
YIDICTL_COMMAND("clearing forwarded", kForwardedUsage,
                [](const Channel& channel, const Args& args) {
                  std::string month;
                  const std::string format = absl::GetFlag(FLAGS_clearing_format);
                  if (args.size() > 1 || !Month(&month) || (format != "csv" && format != "html")) {
                    return UsageError(kForwardedUsage);
                  }
                  yidi::v1::GetForwardedNoticesRequest request;
                  request.set_clearing_month(month);
                  request.set_format(format == "html" ? yidi::v1::CLEARING_FORMAT_HTML
                                                      : yidi::v1::CLEARING_FORMAT_CSV);
                  if (!args.empty()) request.set_city(args[0]);
                  yidi::v1::GetForwardedNoticesResponse response;
                  auto context = yidictl::MakeContext();
                  grpc::Status status =
                      yidi::v1::ClearingCycleService::NewStub(channel)->GetForwardedNotices(
                          context.get(), request, &response);
                  if (!status.ok()) return yidictl::Fail(status);
                  const std::string out = absl::GetFlag(FLAGS_clearing_out);
                  if (out.empty()) PrintForwarding(response.forwarding(), false);
                  int n = 0;
                  for (const auto& document : response.documents()) {
                    ++n;
                    if (out.empty()) {
                      std::printf("%s\n", document.content().c_str());
                      continue;
                    }
                    const std::string path =
                        absl::StrCat(out, "/", month, "-forwarded-", n < 10 ? "0" : "", n, "-",
                                     document.region(), ".", format);
                    std::ofstream file(path, std::ios::binary);
                    file << document.content();
                    if (!file) {
                      std::cerr << "cannot write " << path << "\n";
                      return yidictl::kExitUsage;
                    }
                    std::printf("%s  %s\n", path.c_str(), document.title().c_str());
                  }
                  return yidictl::kExitOk;
                });

void PrintStatement(const yidi::v1::YearStatement& s) {
  std::printf("year %d closed at %s on %s (due by %s); months:", s.year(),
              s.issuer_region().c_str(), s.closed_on().c_str(), s.close_by().c_str());
  for (const auto& month : s.clearing_months()) std::printf(" %s", month.c_str());
  std::printf("\n  net %s 元 in %d pairs\n", FormatYuan(s.net_fen()).c_str(), s.pairs_size());
  for (const auto& p : s.pairs()) {
    std::printf("    %s → %s: %lld settlements, %s − %s = %s 元\n", p.insured_region().c_str(),
                p.treatment_region().c_str(), static_cast<long long>(p.settlement_count()),
                FormatYuan(p.covered_fen()).c_str(), FormatYuan(p.deducted_fen()).c_str(),
                FormatYuan(p.net_fen()).c_str());
  }
}

constexpr char kCloseUsage[] = "clearing close-year --year=YYYY";
YIDICTL_COMMAND("clearing close-year", kCloseUsage, [](const Channel& channel, const Args& args) {
  if (!args.empty() || absl::GetFlag(FLAGS_year) == 0) return UsageError(kCloseUsage);
  yidi::v1::CloseYearRequest request;
  request.set_year(absl::GetFlag(FLAGS_year));
  yidi::v1::CloseYearResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = yidi::v1::ClearingCycleService::NewStub(channel)->CloseYear(
      context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (response.replayed()) std::printf("(already closed)\n");
  PrintStatement(response.statement());
  return yidictl::kExitOk;
});

constexpr char kYearStatusUsage[] = "clearing year-status --year=YYYY";
YIDICTL_COMMAND(
    "clearing year-status", kYearStatusUsage, [](const Channel& channel, const Args& args) {
      if (!args.empty() || absl::GetFlag(FLAGS_year) == 0) return UsageError(kYearStatusUsage);
      yidi::v1::GetYearStatusRequest request;
      request.set_year(absl::GetFlag(FLAGS_year));
      yidi::v1::GetYearStatusResponse response;
      auto context = yidictl::MakeContext();
      grpc::Status status = yidi::v1::ClearingCycleService::NewStub(channel)->GetYearStatus(
          context.get(), request, &response);
      if (!status.ok()) return yidictl::Fail(status);
      if (response.closed()) {
        PrintStatement(response.statement());
        std::printf(
            "  settlements of %d recorded after the close (too late, not cleared): %lld, "
            "%s 元\n",
            response.year(), static_cast<long long>(response.too_late_count()),
            FormatYuan(response.too_late_fen()).c_str());
        return yidictl::kExitOk;
      }
      std::printf("year %d open; close by %s%s\n", response.year(), response.close_by().c_str(),
                  response.overdue() ? " — OVERDUE (第47条)" : "");
      for (const auto& missing : response.missing())
        std::printf("  waiting for %s\n", missing.c_str());
      return yidictl::kExitOk;
    });

}  // namespace
