# Test stand-in for OpenWrt's rules.mk: the install and copy commands a
# package Makefile uses, with the same values as the real ones.
INCLUDE_DIR:=$(TOPDIR)/include
BUILD_DIR?=$(TOPDIR)/build_dir
SED:=sed -i -e
CP:=cp -fpR
LN:=ln -sf
INSTALL_BIN:=install -m0755
INSTALL_DIR:=install -d -m0755
INSTALL_DATA:=install -m0644
INSTALL_CONF:=install -m0600
