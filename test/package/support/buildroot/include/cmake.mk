# Test stand-in for OpenWrt's include/cmake.mk: the variables a package
# Makefile reads from it (the build directory, an empty CMAKE_OPTIONS the
# package adds to, the compile default) with the real file's meaning, and a
# target that prints what the package hands to CMake and the compiler.
#   cmake-options   CMAKE_OPTIONS one per line, then TARGET_CFLAGS= and TARGET_LDFLAGS=
CMAKE_BINARY_SUBDIR?=openwrt-build
CMAKE_BINARY_DIR=$(PKG_BUILD_DIR)$(if $(CMAKE_BINARY_SUBDIR),/$(CMAKE_BINARY_SUBDIR))
CMAKE_OPTIONS:=
TARGET_CFLAGS:=-Os -pipe
TARGET_LDFLAGS:=
PKG_INSTALL:=1
define Build/Compile/Default
	$(MAKE) -C $(CMAKE_BINARY_DIR) $(1)
endef

.PHONY: cmake-options
cmake-options:
	@printf '%s\n' $(CMAKE_OPTIONS) 'TARGET_CFLAGS=$(TARGET_CFLAGS)' 'TARGET_LDFLAGS=$(TARGET_LDFLAGS)'
