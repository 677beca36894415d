# Test stand-in for OpenWrt's include/package.mk. BuildPackage makes targets
# that run the package's Build/Prepare and Package/<name>/install with the
# same make expansions as the real package.mk (both go through $(eval)), and
# that print what package-pack.mk takes from the Makefile: the Package/<name>
# fields, the description as the control file carries it, conffiles and the
# postinst (exported to the shell as package-pack.mk's shexport does).
#   prepare   Build/Prepare into $(PKG_BUILD_DIR)
#   install   Package/<name>/install into $(DEST)
#   info postinst description conffiles

PKG_BUILD_DIR?=$(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)

define Stub/Targets
.PHONY: prepare install info postinst description conffiles
prepare:
	$(Build/Prepare)
install:
	$(call Package/$(1)/install,$$(DEST))
info:
	@printf '%s\n' 'PKG_NAME=$(PKG_NAME)' 'PKG_VERSION=$(PKG_VERSION)' 'PKG_RELEASE=$(PKG_RELEASE)' 'PKG_LICENSE=$(PKG_LICENSE)' \
		'PKG_MAINTAINER=$(PKG_MAINTAINER)' 'URL=$(URL)' 'SECTION=$(SECTION)' 'PKGARCH=$(PKGARCH)' 'DEPENDS=$(DEPENDS)'
postinst:
	@echo "$$$$STUB_POSTINST"
description:
	@printf "Description: "; echo "$$$$STUB_DESCRIPTION" | sed -e 's,^[[:space:]]*, ,g'
conffiles:
	@echo "$$$$STUB_CONFFILES"
endef

define Stub/Export
export STUB_POSTINST=$$(Package/$(1)/postinst)
export STUB_DESCRIPTION=$$(Package/$(1)/description)
export STUB_CONFFILES=$$(Package/$(1)/conffiles)
endef

define BuildPackage
  $(eval $(Package/$(1)))
  $(eval $(call Stub/Export,$(1)))
  $(eval $(call Stub/Targets,$(1)))
endef
