// Storage and JSON forms of time (util/time_format.hpp).
#include <gtest/gtest.h>

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
