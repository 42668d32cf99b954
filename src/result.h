// Expected failures in src/ are values: Result<T> holds a T or an Error whose
// message is one sentence for the person reading it.
#pragma once

#include <boost/outcome/result.hpp>
#include <string>

namespace caretaker {

struct Error {
  std::string message;
};

template <class T, class E = Error>
using Result = boost::outcome_v2::result<T, E, boost::outcome_v2::policy::terminate>;

}  // namespace caretaker
