# CMake toolchain file for bare-metal Cortex-M7 with the GNU Arm toolchain
# (Debian gcc-arm-none-eabi, libnewlib-arm-none-eabi):
#   cmake -DCMAKE_TOOLCHAIN_FILE=arm-none-eabi.cmake ...
# The hard-float ABI with the M7's double-precision FPU (FPv5-D16), as the
# objects of `mnc compile --target thumbv7em-none-eabihf --mcpu cortex-m7`
# use it. For a Cortex-M4 use -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 here and
# --mcpu cortex-m4 for mnc.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
# No operating system to link a test program for: CMake's compiler checks
# build a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16")
