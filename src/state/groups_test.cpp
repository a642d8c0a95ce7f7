#include "state/groups.h"

#include <gtest/gtest.h>

#include "state/test_util.h"

namespace da::state {
namespace {

class GroupsTest : public testing::StateDbFixture {
 protected:
  void SetUp() override {
    StateDbFixture::SetUp();
    users_ = std::make_unique<UserRepo>(*db_);
    groups_ = std::make_unique<GroupRepo>(*db_, *users_);
  }
  std::unique_ptr<UserRepo> users_;
  std::unique_ptr<GroupRepo> groups_;
};

TEST_F(GroupsTest, SystemGroupsExistAndEveryoneIsImplicit) {
  auto list = groups_->ListGroups();
  ASSERT_TRUE(list.ok());
  ASSERT_GE(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "admin");
  EXPECT_EQ((*list)[1].id, "everyone");
  auto a = users_->CreateUser("a@x.io", "A", false);
  auto b = users_->CreateUser("b@x.io", "B", false);
  ASSERT_TRUE(users_->UpdateUser("", b->id, std::nullopt, false).ok());
  auto members = groups_->Members(kEveryoneGroupId);
  ASSERT_EQ(members->size(), 1u);  // only the active user
  EXPECT_EQ((*members)[0].email, "a@x.io");
  EXPECT_EQ(groups_->AddMember(kEveryoneGroupId, "a@x.io").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(groups_->DeleteGroup(kAdminGroupId).code(), StatusCode::kFailedPrecondition);
}

TEST_F(GroupsTest, GrantsReachMembersAndEveryone) {
  auto a = users_->CreateUser("a@x.io", "A", false);
  auto b = users_->CreateUser("b@x.io", "B", false);
  auto g = groups_->CreateGroup("sales", "");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(groups_->CreateGroup(" SALES ", "").status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(groups_->AddMember(g->id, "A@X.io").ok());
  ASSERT_TRUE(groups_->AddMember(g->id, "a@x.io").ok());  // idempotent
  auto grant = groups_->CreateGrant(g->id, "table", "orders", a->id);
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(groups_->CreateGrant(g->id, "table", "orders", a->id)->id, grant->id);
  EXPECT_EQ(groups_->CreateGrant(g->id, "view", "orders", a->id).status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(groups_->CreateGrant(kEveryoneGroupId, "table", "public", a->id).ok());
  EXPECT_EQ(*groups_->GrantedTableIds(a->id), (std::vector<std::string>{"orders", "public"}) );
  EXPECT_EQ(*groups_->GrantedTableIds(b->id), std::vector<std::string>{"public"});
  uint64_t before = db_->Generation();
  ASSERT_TRUE(groups_->DeleteGrant(grant->id).ok());
  EXPECT_GT(db_->Generation(), before);  // access caches drop their entries
  EXPECT_EQ(*groups_->GrantedTableIds(a->id), std::vector<std::string>{"public"});
  ASSERT_TRUE(groups_->DeleteGroup(g->id).ok());
  EXPECT_EQ(groups_->ListGrants(g->id, "")->size(), 0u);
}

TEST_F(GroupsTest, LastActiveAdminIsKept) {
  auto root = users_->CreateUser("root@x.io", "R", true);
  auto other = users_->CreateUser("other@x.io", "O", false);
  EXPECT_EQ(groups_->RemoveMember(kAdminGroupId, root->id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(users_->UpdateUser(root->id, root->id, std::nullopt, false).status().code(),
            StatusCode::kFailedPrecondition);  // yourself
  EXPECT_EQ(users_->UpdateUser(other->id, root->id, std::nullopt, false).status().code(),
            StatusCode::kFailedPrecondition);  // last admin
  auto t = users_->CreateToken(other->id, "t");
  EXPECT_FALSE(users_->Authenticate(t->token)->is_admin);
  ASSERT_TRUE(groups_->AddMember(kAdminGroupId, "other@x.io").ok());
  EXPECT_TRUE(users_->Authenticate(t->token)->is_admin);  // cache dropped
  ASSERT_TRUE(groups_->RemoveMember(kAdminGroupId, root->id).ok());
  EXPECT_FALSE(users_->FindById(root->id)->value().is_admin);
  EXPECT_EQ(groups_->RemoveMember(kAdminGroupId, other->id).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace da::state
