"""What the core talks to besides memory: core peripherals (DWT, SysTick, SCB), the console
UART, semihosting, and the timed read path of flash data."""
