// Keys in the URL query string are refused (auth/request_hook.hpp, query_holds_key).
#include <gtest/gtest.h>

#include "auth/request_hook.hpp"

namespace mdp::api_access {
namespace {

TEST(QueryCheck, KeyLikeParametersAreFound) {
  for (const char* q : {"api_key=x", "page=2&api_key=abc", "apikey=1", "key=", "token=t",
                        "access_token=a", "API_KEY=x", "Api%5FKey=x", "x-api-key=1", "a=1;key=2",
                        "q=mdp_abc", "q=MDP_ABC", "q=%6Ddp_abc", "mdp_ABC", "bearer=x"})
    EXPECT_TRUE(query_holds_key(q)) << q;
}

TEST(QueryCheck, OrdinaryQueriesPass) {
  for (const char* q : {"", "page=2", "limit=10&offset=20", "keyword=tooth", "monkey=1",
                        "tokens=3", "q=md", "q=mdp", "sort=-created_at", "%", "%%%", "=",
                        "&&&", "q=%ZZ"})
    EXPECT_FALSE(query_holds_key(q)) << q;
}

TEST(QueryCheck, HugeQueriesAreBoundedAndDoNotCrash) {
  std::string q(1 << 20, 'a');
  EXPECT_FALSE(query_holds_key(q));
  std::string many;
  for (int i = 0; i < 100000; ++i) many += "a=b&";
  EXPECT_FALSE(query_holds_key(many));
}

}  // namespace
}  // namespace mdp::api_access
