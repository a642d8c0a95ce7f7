#include "state/groups.h"

#include <gtest/gtest.h>

#include "support/state_db_fixture.h"
#include "support/status_macros.h"

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
  ASSERT_OK(list);
  ASSERT_GE(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "admin");
  EXPECT_EQ((*list)[1].id, "everyone");
  auto a = users_->CreateUser("a@x.io", "A", false);
  auto b = users_->CreateUser("b@x.io", "B", false);
  ASSERT_OK(users_->UpdateUser("", b->id, std::nullopt, false));
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
  ASSERT_OK(g);
  EXPECT_EQ(groups_->CreateGroup(" SALES ", "").status().code(), StatusCode::kAlreadyExists);
  ASSERT_OK(groups_->AddMember(g->id, "A@X.io"));
  ASSERT_OK(groups_->AddMember(g->id, "a@x.io"));  // idempotent
  auto grant = groups_->CreateGrant(g->id, "table", "orders", a->id);
  ASSERT_OK(grant);
  EXPECT_EQ(groups_->CreateGrant(g->id, "table", "orders", a->id)->id, grant->id);
  EXPECT_EQ(groups_->CreateGrant(g->id, "view", "orders", a->id).status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_OK(groups_->CreateGrant(kEveryoneGroupId, "table", "public", a->id));
  EXPECT_EQ(*groups_->GrantedTableIds(a->id), (std::vector<std::string>{"orders", "public"}) );
  EXPECT_EQ(*groups_->GrantedTableIds(b->id), std::vector<std::string>{"public"});
  uint64_t before = db_->Generation();
  ASSERT_OK(groups_->DeleteGrant(grant->id));
  EXPECT_GT(db_->Generation(), before);  // access caches drop their entries
  EXPECT_EQ(*groups_->GrantedTableIds(a->id), std::vector<std::string>{"public"});
  ASSERT_OK(groups_->DeleteGroup(g->id));
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
  ASSERT_OK(groups_->AddMember(kAdminGroupId, "other@x.io"));
  EXPECT_TRUE(users_->Authenticate(t->token)->is_admin);  // cache dropped
  ASSERT_OK(groups_->RemoveMember(kAdminGroupId, root->id));
  EXPECT_FALSE(users_->FindById(root->id)->value().is_admin);
  EXPECT_EQ(groups_->RemoveMember(kAdminGroupId, other->id).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace da::state
