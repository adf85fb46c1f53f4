// SPDX-License-Identifier: GPL-2.0
//
// kstd::IntrusiveList: a circular doubly-linked list whose nodes live in the
// listed objects (a type joins a list by deriving from ListNode), so linking
// never allocates.  The empty list and a detached node both point at
// themselves; the constructor is constexpr, so a list can be a constinit
// global without a static constructor.
#pragma once

namespace kstd {

struct ListNode {
  ListNode* prev;
  ListNode* next;

  constexpr ListNode() : prev(this), next(this) {}
  ListNode(const ListNode&) = delete;
  ListNode& operator=(const ListNode&) = delete;

  bool linked() const { return next != this; }

  void unlink() {
    prev->next = next;
    next->prev = prev;
    prev = next = this;
  }

  void insert_after(ListNode* pos) {
    prev = pos;
    next = pos->next;
    pos->next->prev = this;
    pos->next = this;
  }
};

// T must derive from ListNode; an object is on at most one such list.
template <typename T>
class IntrusiveList {
 public:
  constexpr IntrusiveList() = default;
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return head_.next == &head_; }
  T* front() const { return empty() ? nullptr : static_cast<T*>(head_.next); }
  T* back() const { return empty() ? nullptr : static_cast<T*>(head_.prev); }

  // The item before item on this list, nullptr at the front.
  T* prev(const T* item) const {
    return item->prev == &head_ ? nullptr : static_cast<T*>(item->prev);
  }

  void push_front(T* item) { item->insert_after(&head_); }
  void push_back(T* item) { item->insert_after(head_.prev); }
  static void remove(T* item) { item->unlink(); }

  // Moves an item that may be on any list to this one.
  void move_to_front(T* item) {
    item->unlink();
    push_front(item);
  }
  void move_to_back(T* item) {
    item->unlink();
    push_back(item);
  }

  class Iterator {
   public:
    explicit Iterator(ListNode* n) : node_(n) {}
    T* operator*() const { return static_cast<T*>(node_); }
    Iterator& operator++() {
      node_ = node_->next;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return node_ != o.node_; }

   private:
    ListNode* node_;
  };
  Iterator begin() { return Iterator(head_.next); }
  Iterator end() { return Iterator(&head_); }

 private:
  ListNode head_;
};

}  // namespace kstd
