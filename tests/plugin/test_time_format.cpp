// Storage and JSON forms of time (util/time_format.hpp).
#include <gtest/gtest.h>

#include "util/clinic_time.hpp"
#include "util/time_format.hpp"

namespace mdp::api_access {
namespace {

TEST(TimeFormat, FormatsRfc3339Utc) {
  const auto t = parse_rfc3339("2026-11-26T09:30:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2026-11-26T09:30:00Z");
  EXPECT_EQ(format_rfc3339(*t + 250000), "2026-11-26T09:30:00.25Z");
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_date(day_of(*t)), "2026-11-26");
}

TEST(TimeFormat, ParsesOffsetsAndFractions) {
  EXPECT_EQ(parse_rfc3339("2026-11-26T10:30:00+01:00"), parse_rfc3339("2026-11-26T09:30:00Z"));
  EXPECT_EQ(parse_rfc3339("2026-11-26T04:00:00-05:30"), parse_rfc3339("2026-11-26T09:30:00Z"));
  EXPECT_EQ(*parse_rfc3339("1970-01-01T00:00:01.5Z"), 1'500'000);
  EXPECT_EQ(parse_rfc3339("2026-11-26t09:30:00z"), parse_rfc3339("2026-11-26T09:30:00Z"));
}

TEST(TimeFormat, RejectsAnythingElse) {
  for (const char* bad :
       {"", "2026-11-26", "2026-11-26 09:30:00Z", "2026-11-26T09:30:00", "2026-02-30T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-11-26T24:00:00Z", "2026-11-26T09:30:00+25:00",
        "2026-11-26T09:30:00ZZ", "tomorrow", "1969-12-31T23:59:59Z", "2026-11-26T09:30:00.Z",
        "+2026-11-26T09:30:00Z", "2026-11-26T09:30:00Z\n"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(TimeFormat, DayOfIsFloorDivision) {
  EXPECT_EQ(day_of(0), 0);
  EXPECT_EQ(day_of(kMicrosPerDay - 1), 0);
  EXPECT_EQ(day_of(kMicrosPerDay), 1);
  EXPECT_EQ(day_of(-1), -1);
  EXPECT_EQ(format_date(-1), "1969-12-31");
}

}  // namespace
}  // namespace mdp::api_access

// Clinic time zones (util/clinic_time.hpp), from the system's tz database.
namespace mdp::api_access {
namespace {

Micros at(const char* rfc3339) { return *parse_rfc3339(rfc3339); }

TEST(ClinicTime, DaysAndMidnightsFollowTheZone) {
  const auto berlin = ClinicZone::find("Europe/Berlin");
  ASSERT_TRUE(berlin);
  EXPECT_EQ(berlin->name(), "Europe/Berlin");
  // 23:30 UTC on the 26th is already the 27th in Berlin (UTC+1 in winter).
  EXPECT_EQ(format_date(berlin->day_of(at("2026-11-26T23:30:00Z"))), "2026-11-27");
  EXPECT_EQ(format_date(berlin->day_of(at("2026-11-26T22:59:59Z"))), "2026-11-26");
  EXPECT_EQ(berlin->start_of_day(*parse_date("2026-11-27")), at("2026-11-26T23:00:00Z"));
  EXPECT_EQ(berlin->start_of_day(*parse_date("2026-07-01")), at("2026-06-30T22:00:00Z"));  // summer: UTC+2
  EXPECT_EQ(berlin->format_rfc3339(at("2026-11-26T09:30:00Z")), "2026-11-26T10:30:00+01:00");
  EXPECT_EQ(berlin->format_minutes(at("2026-07-01T09:30:00Z")), "2026-07-01 11:30 CEST");
  // West of UTC, and a half-hour zone.
  const auto ny = ClinicZone::find("America/New_York");
  EXPECT_EQ(format_date(ny->day_of(at("2026-11-27T04:59:59Z"))), "2026-11-26");
  EXPECT_EQ(ny->format_rfc3339(at("2026-11-27T04:59:59Z")), "2026-11-26T23:59:59-05:00");
  const auto india = ClinicZone::find("Asia/Kolkata");
  EXPECT_EQ(india->start_of_day(*parse_date("2026-11-27")), at("2026-11-26T18:30:00Z"));
}

TEST(ClinicTime, ADayWhoseMidnightIsSkippedStartsAtTheChange) {
  // Brazil, 4 Nov 2018: clocks went from 00:00 (UTC-3) to 01:00 (UTC-2); no local midnight.
  const auto sp = ClinicZone::find("America/Sao_Paulo");
  ASSERT_TRUE(sp);
  EXPECT_EQ(sp->start_of_day(*parse_date("2018-11-04")), at("2018-11-04T03:00:00Z"));
  EXPECT_EQ(format_date(sp->day_of(at("2018-11-04T03:00:00Z"))), "2018-11-04");
  EXPECT_EQ(format_date(sp->day_of(at("2018-11-04T02:59:59Z"))), "2018-11-03");
}

TEST(ClinicTime, UtcUnknownNamesAndDates) {
  EXPECT_TRUE(ClinicZone::find("")->is_utc());
  EXPECT_TRUE(ClinicZone::find("UTC")->is_utc());
  EXPECT_EQ(ClinicZone().format_minutes(at("2026-11-26T09:30:00Z")), "2026-11-26 09:30 UTC");
  EXPECT_EQ(ClinicZone().format_rfc3339(at("2026-11-26T09:30:00Z")), "2026-11-26T09:30:00Z");
  for (const char* bad : {"Mars/Olympus_Mons", "Europe/../etc/passwd", "europe/berlin ", "../../x"})
    EXPECT_FALSE(ClinicZone::find(bad)) << bad;
  EXPECT_EQ(parse_date("2026-11-26"), day_of(at("2026-11-26T00:00:00Z")));
  for (const char* bad : {"2026-02-29", "2026-00-10", "2026-1-10", "1969-12-31", "2026-11-26T00", "２０２６-11-26", ""})
    EXPECT_FALSE(parse_date(bad)) << bad;
  EXPECT_TRUE(parse_date("2028-02-29"));
}

}  // namespace
}  // namespace mdp::api_access
