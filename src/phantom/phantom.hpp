// Everything a user of Phantom needs, in one include.
#pragma once

#include "phantom/comm/communicator.hpp"
#include "phantom/core/activation.hpp"
#include "phantom/core/error.hpp"
#include "phantom/core/gemm.hpp"
#include "phantom/core/loss.hpp"
#include "phantom/core/optimizer.hpp"
#include "phantom/core/types.hpp"
#include "phantom/data/batch_sampler.hpp"
#include "phantom/data/teacher.hpp"
#include "phantom/layers/dense_layer.hpp"
#include "phantom/model/distributed_ffn.hpp"
#include "phantom/model/sequential_ffn.hpp"
