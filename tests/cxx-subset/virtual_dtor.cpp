// SPDX-License-Identifier: GPL-2.0
// Breaks the subset: a class with an out-of-line virtual destructor gets a
// vtable whose deleting destructor calls operator delete.
#include "seam.h"

struct SplkFixtureBase {
  virtual ~SplkFixtureBase();
  unsigned long value = 1;
};

SplkFixtureBase::~SplkFixtureBase() {}
