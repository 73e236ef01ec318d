#include "signer/decide.h"
