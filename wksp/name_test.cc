#include "wksp/name.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace wk::wksp {
namespace {

using ::testing::HasSubstr;

TEST(NameTest, Rule) {
  EXPECT_TRUE(ValidateName("a").ok());
  EXPECT_TRUE(ValidateName("Z9_.-x").ok());
  EXPECT_TRUE(ValidateName(std::string(kNameMaxLen, 'a')).ok());
  EXPECT_FALSE(ValidateName(std::string(kNameMaxLen + 1, 'a')).ok());
  EXPECT_FALSE(ValidateName("").ok());
  EXPECT_FALSE(ValidateName("_a").ok());
  EXPECT_FALSE(ValidateName("a/b").ok());
  EXPECT_FALSE(ValidateName("..").ok());
  EXPECT_FALSE(ValidateName(std::string("a\0b", 3)).ok());
  EXPECT_THAT(ValidateName("a b").message(), HasSubstr("[A-Za-z0-9_.-]"));
  EXPECT_THAT(ValidateName("a b").message(), HasSubstr("1 to 39 characters"));
  EXPECT_EQ(IsValidName("a b"), ValidateName("a b").ok());
}

TEST(NameTest, Fields) {
  char field[kNameFieldSz];
  StoreNameField(field, "ref");
  EXPECT_EQ(NameInField(field), "ref");
  for (size_t i = 3; i < kNameFieldSz; ++i) EXPECT_EQ(field[i], 0) << i;
  StoreNameField(field, std::string(kNameMaxLen, 'x'));
  EXPECT_EQ(NameInField(field), std::string(kNameMaxLen, 'x'));
  std::fill(field, field + kNameFieldSz, 'x');  // no NUL at all
  EXPECT_EQ(NameInField(field), std::nullopt);
  StoreNameField(field, "");
  EXPECT_EQ(NameInField(field), std::nullopt);  // empty is not a name
  field[0] = '_';
  EXPECT_EQ(NameInField(field), std::nullopt);
}

}  // namespace
}  // namespace wk::wksp
