# Board table: the only place that knows about boards.
#
# Per board:
#   <board>_CPU       compiler/linker flags selecting core, FPU and float ABI
#   <board>_UART      -D defines for the console UART (see include/mcusim.h)
#   <board>_FEATURES  capabilities that programs may require (see PROG_REQUIRES)
# The memory map lives in ld/<board>.ld.

CPU_M0P := -mcpu=cortex-m0plus -mthumb -mfloat-abi=soft
CPU_M3  := -mcpu=cortex-m3 -mthumb -mfloat-abi=soft
CPU_M4F := -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard
CPU_M7F := -mcpu=cortex-m7 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard
CPU_M33F := -mcpu=cortex-m33 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard

# UART register layouts understood by common/mcusim.c.
UART_CMSDK    = -DMCUSIM_UART_CMSDK -DMCUSIM_UART_BASE=$(1)
UART_STM32_SR = -DMCUSIM_UART_STM32_SR -DMCUSIM_UART_BASE=$(1)
UART_STM32_ISR = -DMCUSIM_UART_STM32_ISR -DMCUSIM_UART_BASE=$(1)
UART_NRF      = -DMCUSIM_UART_NRF -DMCUSIM_UART_BASE=$(1)

BOARDS := mps2-an386 nucleo-f446re stm32f4-discovery nucleo-l4r5zi \
          nucleo-f746zg nrf52840-dk nucleo-g071rb nucleo-f103rb \
          nucleo-u575zi mps2-an505

mps2-an386_CPU        := $(CPU_M4F)
mps2-an386_UART       := $(call UART_CMSDK,0x40004000)
mps2-an386_FEATURES   := hwdiv fpu

nucleo-f446re_CPU      := $(CPU_M4F)
nucleo-f446re_UART     := $(call UART_STM32_SR,0x40004400)
nucleo-f446re_FEATURES := hwdiv fpu

stm32f4-discovery_CPU      := $(CPU_M4F)
stm32f4-discovery_UART     := $(call UART_STM32_SR,0x40004400)
stm32f4-discovery_FEATURES := hwdiv fpu

nucleo-l4r5zi_CPU      := $(CPU_M4F)
nucleo-l4r5zi_UART     := $(call UART_STM32_ISR,0x40008000)
nucleo-l4r5zi_FEATURES := hwdiv fpu

nucleo-f746zg_CPU      := $(CPU_M7F)
nucleo-f746zg_UART     := $(call UART_STM32_ISR,0x40004800)
nucleo-f746zg_FEATURES := hwdiv fpu

nrf52840-dk_CPU      := $(CPU_M4F)
nrf52840-dk_UART     := $(call UART_NRF,0x40002000)
nrf52840-dk_FEATURES := hwdiv fpu

nucleo-g071rb_CPU      := $(CPU_M0P)
nucleo-g071rb_UART     := $(call UART_STM32_ISR,0x40004400)
nucleo-g071rb_FEATURES :=

nucleo-f103rb_CPU      := $(CPU_M3)
nucleo-f103rb_UART     := $(call UART_STM32_SR,0x40004400)
nucleo-f103rb_FEATURES := hwdiv

nucleo-u575zi_CPU      := $(CPU_M33F)
nucleo-u575zi_UART     := $(call UART_STM32_ISR,0x40013800)
nucleo-u575zi_FEATURES := hwdiv fpu

mps2-an505_CPU        := $(CPU_M33F)
mps2-an505_UART       := $(call UART_CMSDK,0x50200000)
mps2-an505_FEATURES   := hwdiv fpu
