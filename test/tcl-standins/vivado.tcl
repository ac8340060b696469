# Stand-in for Vivado in batch mode (vivado -mode batch -source SCRIPT): the project,
# IP-integrator and run commands of UG835 the generated scripts use, with their documented
# options. It models just enough of a block design to check its structure: which PS ports
# the CONFIG enables, which pins each cell has, which nets connect them, and a
# validate_bd_design that fails when an m_axi bundle, a clock or a reset is left open.
#
#   tclsh vivado.tcl SCRIPT
# Environment: STANDIN_LOG (call log); STANDIN_BOARDS (installed board parts, default the
# two ZCU104 revisions; empty = no board files); STANDIN_HLS_BUNDLES (m_axi bundles of the
# HLS IP); STANDIN_WNS (slack reported by impl_1, default 0.125); STANDIN_FAIL_RUN (a run
# that fails); STANDIN_OLD_LAYOUT=1 (.hwh under .srcs, as before Vivado 2020.2);
# STANDIN_UTIL_RPT / STANDIN_TIMING_RPT (files copied as the reports).

source [file join [file dirname [file normalize [info script]]] standin.tcl]

set ::catalog {
  xilinx.com:ip:zynq_ultra_ps_e:3.3 xilinx.com:ip:zynq_ultra_ps_e:3.5 xilinx.com:ip:zynq_ultra_ps_e:3.4
  xilinx.com:ip:smartconnect:1.0 xilinx.com:ip:proc_sys_reset:5.0 xilinx.com:ip:axi_interconnect:2.1
  xilinx.com:ip:xlconcat:2.1
}
set ::prj ""          ;# dict: name dir part board_part ip_repo_paths top bd
set ::cells [dict create]   ;# name -> dict vlnv config
set ::intf_nets {}    ;# list of {a b}
set ::nets {}         ;# list of {a b}
set ::params [dict create]

# The PS slave ports as UG1085 / the PS IP name them, independently of the generator:
# port -> {interface pin, clock pin, enable parameter, width parameter}.
set ::ps_ports {
  HPC0 {S_AXI_HPC0_FPD saxihpc0_fpd_aclk PSU__USE__S_AXI_GP0 PSU__SAXIGP0__DATA_WIDTH}
  HPC1 {S_AXI_HPC1_FPD saxihpc1_fpd_aclk PSU__USE__S_AXI_GP1 PSU__SAXIGP1__DATA_WIDTH}
  HP0  {S_AXI_HP0_FPD saxihp0_fpd_aclk PSU__USE__S_AXI_GP2 PSU__SAXIGP2__DATA_WIDTH}
  HP1  {S_AXI_HP1_FPD saxihp1_fpd_aclk PSU__USE__S_AXI_GP3 PSU__SAXIGP3__DATA_WIDTH}
  HP2  {S_AXI_HP2_FPD saxihp2_fpd_aclk PSU__USE__S_AXI_GP4 PSU__SAXIGP4__DATA_WIDTH}
  HP3  {S_AXI_HP3_FPD saxihp3_fpd_aclk PSU__USE__S_AXI_GP5 PSU__SAXIGP5__DATA_WIDTH}
}

proc viv_need_project {} {
  if {$::prj eq ""} { standin_fail "no open project" }
}

proc viv_save {} {
  set f [open [file join [dict get $::prj dir] "[dict get $::prj name].xpr"] w]
  puts $f $::prj
  close $f
}

proc viv_boards {} {
  return [standin_env STANDIN_BOARDS "xilinx.com:zcu104:part0:1.0 xilinx.com:zcu104:part0:1.1"]
}

# --- project ------------------------------------------------------------------------------
standin_define create_project {-part value -force flag -in_memory flag -ip flag -rtl_kernel flag -quiet flag -verbose flag} 0 2 {
  set name [lindex $pos 0]
  set dir [lindex $pos 1]
  if {[file exists [file join $dir $name.xpr]] && ![dict exists $opts -force]} { standin_fail "create_project: $dir/$name.xpr exists (use -force)" }
  file delete -force [file join $dir $name.xpr] [file join $dir $name.runs] [file join $dir $name.gen] [file join $dir $name.srcs]
  file mkdir $dir
  set ::prj [dict create name $name dir [file normalize $dir] part [standin_opt $opts -part] board_part "" ip_repo_paths {} top "" bd ""]
  viv_save
}

standin_define open_project {-read_only flag -quiet flag -verbose flag} 1 1 {
  set xpr [lindex $pos 0]
  if {![file exists $xpr]} { standin_fail "open_project: no project $xpr" }
  set f [open $xpr]
  set ::prj [read $f]
  close $f
}

standin_define close_project {-delete flag -quiet flag -verbose flag} 0 0 {
  viv_need_project
  viv_save
  set ::prj ""
}

standin_define current_project {-quiet flag -verbose flag} 0 1 {
  viv_need_project
  return [dict get $::prj name]
}

standin_define current_fileset {-constrset flag -simset flag -quiet flag -verbose flag} 0 1 {
  viv_need_project
  return sources_1
}

standin_define set_param {-quiet flag -verbose flag} 2 2 {
  dict set ::params [lindex $pos 0] [lindex $pos 1]
}

standin_define version {-short flag -quiet flag -verbose flag} 0 0 {
  if {[dict exists $opts -short]} { return 2023.2 }
  return "Vivado v2023.2 (64-bit)"
}

standin_define get_board_parts {-latest_file_version flag -latest_hw_revision flag -filter value -regexp flag -nocase flag -quiet flag -verbose flag} 0 1 {
  set out {}
  foreach b [viv_boards] {
    if {[llength $pos] == 0 || [string match [lindex $pos 0] $b]} { lappend out $b }
  }
  return $out
}

standin_define update_ip_catalog {-rebuild flag -scan_changes flag -repo_path value -quiet flag -verbose flag} 0 0 {
  viv_need_project
  foreach repo [dict get $::prj ip_repo_paths] {
    foreach comp [glob -nocomplain -directory $repo component.xml */component.xml] {
      set f [open $comp]
      set vlnv [string trim [read $f]]
      close $f
      if {$vlnv ni $::catalog} { lappend ::catalog $vlnv }
    }
  }
}

standin_define get_ipdefs {-all flag -filter value -name flag -regexp flag -nocase flag -of_objects value -quiet flag -verbose flag} 0 1 {
  set out {}
  foreach v $::catalog {
    if {[llength $pos] == 0 || [string match [lindex $pos 0] $v]} { lappend out $v }
  }
  return $out
}

# --- objects ----------------------------------------------------------------------------------
proc viv_cell_of {path} {
  set path [string trimleft $path /]
  set cell [lindex [split $path /] 0]
  if {![dict exists $::cells $cell]} { standin_fail "no cell $cell (for $path)" }
  return $cell
}

proc viv_cfg {cell key {default ""}} {
  set cfg [dict get $::cells $cell config]
  if {[dict exists $cfg $key]} { return [dict get $cfg $key] }
  return $default
}

proc viv_kind {cell} {
  set vlnv [dict get $::cells $cell vlnv]
  return [lindex [split $vlnv :] 2]
}

# Interface pins a cell has in its current configuration.
proc viv_intf_pins {cell} {
  switch -glob -- [viv_kind $cell] {
    zynq_ultra_ps_e {
      set pins {}
      if {[viv_cfg $cell PSU__USE__M_AXI_GP0 1] eq "1"} { lappend pins M_AXI_HPM0_FPD }
      if {[viv_cfg $cell PSU__USE__M_AXI_GP1 1] eq "1"} { lappend pins M_AXI_HPM1_FPD }
      dict for {port spec} $::ps_ports {
        if {[viv_cfg $cell [lindex $spec 2] 0] eq "1"} { lappend pins [lindex $spec 0] }
      }
      return $pins
    }
    smartconnect {
      set pins {}
      for {set i 0} {$i < [viv_cfg $cell NUM_SI 1]} {incr i} { lappend pins [format S%02d_AXI $i] }
      for {set i 0} {$i < [viv_cfg $cell NUM_MI 1]} {incr i} { lappend pins [format M%02d_AXI $i] }
      return $pins
    }
    proc_sys_reset { return {} }
    default {
      set pins {s_axi_control}
      foreach b [standin_env STANDIN_HLS_BUNDLES] { lappend pins m_axi_$b }
      return $pins
    }
  }
}

proc viv_pins {cell} {
  switch -glob -- [viv_kind $cell] {
    zynq_ultra_ps_e {
      set pins {pl_clk0 pl_resetn0}
      if {[viv_cfg $cell PSU__USE__IRQ0 0] eq "1"} { lappend pins pl_ps_irq0 }
      if {[viv_cfg $cell PSU__USE__M_AXI_GP0 1] eq "1"} { lappend pins maxihpm0_fpd_aclk }
      if {[viv_cfg $cell PSU__USE__M_AXI_GP1 1] eq "1"} { lappend pins maxihpm1_fpd_aclk }
      dict for {port spec} $::ps_ports {
        if {[viv_cfg $cell [lindex $spec 2] 0] eq "1"} { lappend pins [lindex $spec 1] }
      }
      return $pins
    }
    smartconnect { return {aclk aresetn} }
    proc_sys_reset { return {slowest_sync_clk ext_reset_in aux_reset_in mb_debug_sys_rst dcm_locked mb_reset bus_struct_reset peripheral_reset interconnect_aresetn peripheral_aresetn} }
    default { return {ap_clk ap_rst_n interrupt} }
  }
}

proc viv_pin_objects {kind patterns} {
  set out {}
  foreach p $patterns {
    set cell [viv_cell_of $p]
    set pin [lindex [split [string trimleft $p /] /] 1]
    set have [expr {$kind eq "intf" ? [viv_intf_pins $cell] : [viv_pins $cell]}]
    if {$pin ni $have} { standin_fail "cell $cell ([dict get $::cells $cell vlnv]) has no [expr {$kind eq "intf" ? "interface pin" : "pin"}] $pin in its configuration (has: $have)" }
    lappend out "/$cell/$pin"
  }
  return $out
}

standin_define get_bd_cells {-hierarchical flag -filter value -of_objects value -regexp flag -nocase flag -quiet flag -verbose flag} 0 1 {
  set out {}
  foreach c [lindex $pos 0] { lappend out /[viv_cell_of $c] }
  return $out
}
standin_define get_bd_pins {-filter value -of_objects value -regexp flag -nocase flag -quiet flag -verbose flag -hierarchical flag} 0 1 {
  return [viv_pin_objects pin [lindex $pos 0]]
}
standin_define get_bd_intf_pins {-filter value -of_objects value -regexp flag -nocase flag -quiet flag -verbose flag -hierarchical flag} 0 1 {
  return [viv_pin_objects intf [lindex $pos 0]]
}

standin_define get_files {-all flag -compile_order value -filter value -of_objects value -used_in value -regexp flag -nocase flag -quiet flag -verbose flag} 0 1 {
  viv_need_project
  set bd [dict get $::prj bd]
  set f [file join [dict get $::prj dir] "[dict get $::prj name].srcs" sources_1 bd $bd $bd.bd]
  if {[string match [lindex $pos 0] $bd.bd] && [file exists $f]} { return $f }
  standin_fail "get_files: no file matches [lindex $pos 0]"
}

standin_define set_property {-dict value -quiet flag -verbose flag} 1 3 {
  if {[dict exists $opts -dict]} {
    if {[llength $pos] != 1} { standin_fail "set_property -dict takes one object list" }
    set pairs [dict get $opts -dict]
    set objs [lindex $pos 0]
  } else {
    if {[llength $pos] != 3} { standin_fail "set_property takes NAME VALUE OBJECTS" }
    set pairs [list [lindex $pos 0] [lindex $pos 1]]
    set objs [lindex $pos 2]
  }
  if {[llength $pairs] % 2} { standin_fail "set_property: odd name/value list" }
  if {[llength $objs] == 0} { standin_fail "set_property: no objects" }
  foreach obj $objs {
    foreach {k v} $pairs {
      if {[string match CONFIG.* $k]} {
        set cell [viv_cell_of $obj]
        dict set ::cells $cell config [string range $k 7 end] $v
      } elseif {$k eq "board_part"} {
        viv_need_project
        if {$v ni [viv_boards]} {
          error "ERROR: \[Board 49-71\] The board_part definition was not found for $v. The project's board_part property was not set, but the project's part property was set to [dict get $::prj part]."
        }
        dict set ::prj board_part $v
        viv_save
      } elseif {$k in {ip_repo_paths top}} {
        viv_need_project
        dict set ::prj $k $v
        viv_save
      } else {
        standin_fail "set_property: property $k is not modelled by the stand-in"
      }
    }
  }
}

standin_define get_property {-min flag -max flag -quiet flag -verbose flag} 2 2 {
  set name [lindex $pos 0]
  set obj [lindex $pos 1]
  if {[string match CONFIG.* $name]} {
    set cell [viv_cell_of $obj]
    set key [string range $name 7 end]
    if {$key eq "PSU__CRL_APB__PL0_REF_CTRL__ACT_FREQMHZ"} {
      # The PLL divides from the IOPLL: a little off the asked value.
      return [format %.6f [expr {[viv_cfg $cell PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ 100] * 0.99999}]]
    }
    return [viv_cfg $cell $key]
  }
  if {$obj in {synth_1 impl_1}} { return [viv_run_property $obj $name] }
  standin_fail "get_property: $name of $obj is not modelled by the stand-in"
}

# --- block design -------------------------------------------------------------------------
standin_define create_bd_design {-dir value -cell value -mode value -quiet flag -verbose flag} 1 1 {
  viv_need_project
  dict set ::prj bd [lindex $pos 0]
  set d [file join [dict get $::prj dir] "[dict get $::prj name].srcs" sources_1 bd [lindex $pos 0]]
  file mkdir $d
  set f [open [file join $d [lindex $pos 0].bd] w]; puts $f "{}"; close $f
  viv_save
}

standin_define create_bd_cell {-type {ip module hier} -vlnv value -reference value -quiet flag -verbose flag} 1 1 {
  set name [lindex $pos 0]
  set vlnv [standin_opt $opts -vlnv]
  if {$vlnv ni $::catalog} { standin_fail "create_bd_cell: $vlnv is not in the IP catalog" }
  if {[dict exists $::cells $name]} { standin_fail "create_bd_cell: $name exists" }
  dict set ::cells $name [dict create vlnv $vlnv config [dict create] preset 0]
  return /$name
}

standin_define apply_bd_automation {-rule value -config value -dict value -opts value -quiet flag -verbose flag} 1 1 {
  set rule [standin_opt $opts -rule]
  if {$rule eq "xilinx.com:bd_rule:zynq_ultra_ps_e"} {
    set cell [viv_cell_of [lindex $pos 0]]
    set cfg [standin_opt $opts -config]
    if {![dict exists $cfg apply_board_preset] || [dict get $cfg apply_board_preset] ne "1"} { standin_fail "apply_bd_automation: zynq rule without apply_board_preset 1" }
    if {[dict get $::prj board_part] eq ""} { standin_fail "apply_bd_automation: board preset without a board part" }
    dict set ::cells $cell preset 1
    # The ZCU104 preset enables HPM0_FPD, HPM1_FPD and HPM0_LPD (and none of the PL slave ports).
    foreach k {PSU__USE__M_AXI_GP0 PSU__USE__M_AXI_GP1 PSU__USE__M_AXI_GP2} { dict set ::cells $cell config $k 1 }
  } else {
    standin_fail "apply_bd_automation: rule $rule is not modelled by the stand-in"
  }
}

proc viv_connected {pin} {
  foreach pair [concat $::intf_nets $::nets] {
    if {$pin in $pair} { return 1 }
  }
  return 0
}

standin_define connect_bd_intf_net {-boundary_type value -intf_net value -quiet flag -verbose flag} 2 2 {
  foreach p $pos {
    if {[llength $p] != 1 || ![string match /*/* $p]} { standin_fail "connect_bd_intf_net: not an interface pin object: '$p'" }
    if {[viv_connected $p]} { standin_fail "connect_bd_intf_net: $p is already connected" }
  }
  lappend ::intf_nets $pos
}

standin_define connect_bd_net {-net value -quiet flag -verbose flag} 2 2 {
  foreach p $pos {
    if {[llength $p] != 1 || ![string match /*/* $p]} { standin_fail "connect_bd_net: not a pin object: '$p'" }
  }
  lappend ::nets $pos
}

standin_define assign_bd_address {-target_address_space value -offset value -range value -external flag -force flag -boundary flag -export_to_file value -import_from_file value -quiet flag -verbose flag} 0 1 {
  dict set ::prj addressed 1
}

# What the real validate_bd_design would reject: interfaces and clocks left open.
standin_define validate_bd_design {-force flag -design value -quiet flag -verbose flag} 0 0 {
  if {![dict exists $::prj addressed]} { standin_fail "validate_bd_design: addresses not assigned" }
  dict for {cell info} $::cells {
    foreach p [viv_intf_pins $cell] {
      if {![viv_connected /$cell/$p]} { standin_fail "validate_bd_design: interface /$cell/$p is not connected" }
    }
    foreach p [viv_pins $cell] {
      if {[string match *aclk $p] || $p in {ap_clk ap_rst_n aresetn slowest_sync_clk ext_reset_in}} {
        if {![viv_connected /$cell/$p]} { standin_fail "validate_bd_design: pin /$cell/$p is not connected" }
      }
    }
    if {[viv_kind $cell] eq "zynq_ultra_ps_e" && ![dict get $info preset]} { standin_fail "validate_bd_design: the PS has no board preset" }
  }
  dict set ::prj validated 1
}

standin_define save_bd_design {-quiet flag -verbose flag} 0 1 {
  if {![dict exists $::prj validated]} { standin_fail "save_bd_design before validate_bd_design" }
}

standin_define make_wrapper {-files value -top flag -import flag -fileset value -inst_template flag -testbench flag -quiet flag -verbose flag} 0 0 {
  viv_need_project
  set bd [dict get $::prj bd]
  set d [file join [dict get $::prj dir] "[dict get $::prj name].gen" sources_1 bd $bd hdl]
  file mkdir $d
  set w [file join $d ${bd}_wrapper.v]
  set f [open $w w]; puts $f "module ${bd}_wrapper(); endmodule"; close $f
  return $w
}

standin_define add_files {-norecurse flag -fileset value -scan_for_includes flag -copy_to value -force flag -quiet flag -verbose flag} 1 1 {
  viv_need_project
  foreach f [lindex $pos 0] {
    if {![file exists $f]} { standin_fail "add_files: no file $f" }
  }
}

standin_define update_compile_order {-fileset value -quiet flag -verbose flag} 0 0 {}

# --- runs -----------------------------------------------------------------------------------
proc viv_rundir {run} {
  return [file join [dict get $::prj dir] "[dict get $::prj name].runs" $run]
}

proc viv_run_state {run} {
  set f [file join [viv_rundir $run] standin_state]
  if {![file exists $f]} { return "" }
  set h [open $f]; set s [string trim [read $h]]; close $h
  return $s
}

proc viv_run_property {run name} {
  set state [viv_run_state $run]
  switch -- $name {
    PROGRESS { return [expr {$state in {synth_done bit_done} ? "100%" : "0%"}] }
    STATUS {
      switch -- $state {
        synth_done { return "synth_design Complete!" }
        bit_done { return "write_bitstream Complete!" }
        failed { return "ERROR" }
        default { return "Not started" }
      }
    }
    DIRECTORY { return [viv_rundir $run] }
    STATS.WNS {
      if {$run ne "impl_1" || $state ne "bit_done"} { standin_fail "STATS.WNS of $run before implementation" }
      return [standin_env STANDIN_WNS 0.125]
    }
    default { standin_fail "get_property: run property $name is not modelled" }
  }
}

standin_define get_runs {-filter value -of_objects value -regexp flag -nocase flag -quiet flag -verbose flag} 0 1 {
  viv_need_project
  foreach r [lindex $pos 0] {
    if {$r ni {synth_1 impl_1}} { standin_fail "get_runs: no run $r" }
  }
  return [lindex $pos 0]
}

standin_define reset_run {-from_step value -prev_step flag -quiet flag -verbose flag} 1 1 {
  file delete -force [file join [viv_rundir [lindex $pos 0]] standin_state]
}

standin_define launch_runs {-jobs value -to_step value -next_step flag -scripts_only flag -host value -remote_cmd value -lsf value -dir value -pre_launch_script value -post_launch_script value -force flag -quiet flag -verbose flag} 1 1 {
  viv_need_project
  set run [lindex $pos 0]
  if {![string is integer -strict [standin_opt $opts -jobs 1]]} { standin_fail "launch_runs: -jobs must be an integer" }
  if {[dict get $::prj top] eq ""} { standin_fail "launch_runs: no top module set" }
  file mkdir [viv_rundir $run]
  set state_file [file join [viv_rundir $run] standin_state]
  if {$run eq [standin_env STANDIN_FAIL_RUN]} {
    set f [open $state_file w]; puts $f failed; close $f
    return
  }
  if {$run eq "synth_1"} {
    set f [open $state_file w]; puts $f synth_done; close $f
  } elseif {$run eq "impl_1"} {
    if {[viv_run_state synth_1] ne "synth_done"} { standin_fail "launch_runs impl_1 before synth_1 completed" }
    if {[standin_opt $opts -to_step] ne "write_bitstream"} { standin_fail "launch_runs impl_1 without -to_step write_bitstream makes no bitstream" }
    set top [dict get $::prj top]
    set f [open [file join [viv_rundir $run] $top.bit] w]; puts $f "bitstream of $top"; close $f
    set bd [dict get $::prj bd]
    set where [expr {[standin_env STANDIN_OLD_LAYOUT] eq "1" ? "srcs" : "gen"}]
    set hd [file join [dict get $::prj dir] "[dict get $::prj name].$where" sources_1 bd $bd hw_handoff]
    file mkdir $hd
    set f [open [file join $hd $bd.hwh] w]; puts $f "<hwh of $bd/>"; close $f
    set f [open $state_file w]; puts $f bit_done; close $f
  } else {
    standin_fail "launch_runs: no run $run"
  }
}

standin_define wait_on_run {-timeout value -quiet flag -verbose flag} 1 1 {}

standin_define open_run {-name value -quiet flag -verbose flag} 1 1 {
  if {[lindex $pos 0] eq "impl_1" && [viv_run_state impl_1] ne "bit_done"} { standin_fail "open_run impl_1: not implemented" }
}

proc viv_write_report {file env_name text} {
  if {![file isdirectory [file dirname $file]]} { standin_fail "report folder [file dirname $file] does not exist" }
  set src [standin_env $env_name]
  if {$src ne ""} { file copy -force $src $file; return }
  set f [open $file w]; puts $f $text; close $f
}

standin_define report_utilization {-file value -append flag -hierarchical flag -hierarchical_depth value -cells value -pblocks value -return_string flag -spreadsheet_file value -quiet flag -verbose flag} 0 0 {
  viv_write_report [standin_opt $opts -file] STANDIN_UTIL_RPT "utilization (stand-in)"
}

standin_define report_timing_summary {-file value -max_paths value -nworst value -delay_type value -report_unconstrained flag -check_timing_verbose flag -warn_on_violation flag -append flag -return_string flag -quiet flag -verbose flag} 0 0 {
  viv_write_report [standin_opt $opts -file] STANDIN_TIMING_RPT "timing summary (stand-in)"
}

standin_define write_hw_platform {-fixed flag -hw flag -hw_emu flag -include_bit flag -include_sim_content flag -force flag -file value -minimal flag -quiet flag -verbose flag} 0 1 {
  viv_need_project
  if {[dict exists $opts -include_bit] && [viv_run_state impl_1] ne "bit_done"} { standin_fail "write_hw_platform -include_bit: no bitstream" }
  set f [open [standin_opt $opts -file] w]; puts $f "xsa"; close $f
}

if {$argc != 1} {
  puts stderr "usage: tclsh vivado.tcl SCRIPT"
  exit 64
}
standin_run_script [lindex $argv 0]
