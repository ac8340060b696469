# Stand-in for Vitis HLS (vitis_hls -f SCRIPT, vitis-run --mode hls --tcl SCRIPT): the
# project commands of UG1399 with their documented options, checking the order a real
# session needs (project, then files, then solution, then part/clock/config, then steps)
# and leaving the files later steps look for (csynth.xml, the IP folder).
#
#   tclsh vitis_hls.tcl SCRIPT
# Environment: STANDIN_LOG (call log), STANDIN_CSYNTH_XML (file copied as the csynth
# report), STANDIN_COSIM_RPT (file copied as the cosim report).

source [file join [file dirname [file normalize [info script]]] standin.tcl]

set ::hls [dict create project "" solution "" top "" sources {} tb {} part "" clock "" synthesized 0]

proc hls_need {what} {
  if {$what eq "project" && [dict get $::hls project] eq ""} { standin_fail "no open project (open_project first)" }
  if {$what eq "solution" && [dict get $::hls solution] eq ""} { standin_fail "no open solution (open_solution first)" }
}

proc hls_soldir {} {
  return [file join [dict get $::hls project] [dict get $::hls solution]]
}

standin_define open_project {-reset flag -upgrade flag} 1 1 {
  set name [lindex $pos 0]
  if {[dict exists $opts -reset]} { file delete -force $name }
  file mkdir $name
  standin_record [list __cwd__ [pwd]]
  dict set ::hls project $name
  dict set ::hls solution ""
  # A reopened project keeps its files and top (the real tool stores them in hls.app).
  if {[file exists [file join $name standin_project.tcl]]} {
    set f [open [file join $name standin_project.tcl]]
    set saved [read $f]
    close $f
    foreach k {top sources tb} { dict set ::hls $k [dict get $saved $k] }
  } else {
    foreach k {top sources tb} { dict set ::hls $k "" }
  }
}

proc hls_save_project {} {
  set f [open [file join [dict get $::hls project] standin_project.tcl] w]
  puts $f [dict filter $::hls key top sources tb]
  close $f
}

standin_define set_top {} 1 1 {
  hls_need project
  dict set ::hls top [lindex $pos 0]
  hls_save_project
}

standin_define add_files {-tb flag -cflags value -csimflags value -blackbox value -appendflags flag} 1 1 {
  hls_need project
  foreach f [lindex $pos 0] {
    if {![file exists $f]} { standin_fail "add_files: cannot find $f" }
    if {[dict exists $opts -tb]} { dict lappend ::hls tb $f } else { dict lappend ::hls sources $f }
  }
  hls_save_project
}

standin_define open_solution {-reset flag -flow_target {vivado vitis}} 1 1 {
  hls_need project
  set dir [file join [dict get $::hls project] [lindex $pos 0]]
  if {[dict exists $opts -reset]} { file delete -force $dir }
  file mkdir $dir
  dict set ::hls solution [lindex $pos 0]
  # A reopened solution keeps its part and clock (the real tool stores them in solution.aps).
  foreach k {part clock} { dict set ::hls $k "" }
  if {[file exists [file join $dir standin_solution.tcl]]} {
    set f [open [file join $dir standin_solution.tcl]]
    set saved [read $f]
    close $f
    foreach k {part clock} { dict set ::hls $k [dict get $saved $k] }
  }
}

proc hls_save_solution {} {
  set f [open [file join [hls_soldir] standin_solution.tcl] w]
  puts $f [dict filter $::hls key part clock]
  close $f
}

standin_define set_part {-tool value} 1 1 {
  hls_need solution
  if {![regexp {^xc[a-z0-9]+-[a-z0-9]+-[0-9][a-z0-9-]*$} [lindex $pos 0]]} { standin_fail "set_part: not a part name: [lindex $pos 0]" }
  dict set ::hls part [lindex $pos 0]
  hls_save_solution
}

standin_define create_clock {-period value -name value} 0 0 {
  hls_need solution
  set p [standin_opt $opts -period]
  if {![regexp {^[0-9]+(\.[0-9]+)?(MHz|ns)?$} $p]} { standin_fail "create_clock: -period must be ns or NNNMHz, not '$p'" }
  dict set ::hls clock $p
  hls_save_solution
}

standin_define set_clock_uncertainty {} 1 2 {
  hls_need solution
  if {[dict get $::hls clock] eq ""} { standin_fail "set_clock_uncertainty before create_clock" }
  if {![regexp {^[0-9]+(\.[0-9]+)?%?$} [lindex $pos 0]]} { standin_fail "set_clock_uncertainty: not a value: [lindex $pos 0]" }
}

standin_define config_interface {
  -clock_enable flag -default_slave_interface {none s_axilite} -m_axi_addr64 flag
  -m_axi_alignment_byte_size value -m_axi_auto_max_ports flag -m_axi_buffer_impl {auto lutram uram bram}
  -m_axi_conservative_mode flag -m_axi_flush_mode flag -m_axi_latency value -m_axi_max_bitwidth value
  -m_axi_max_read_burst_length value -m_axi_max_widen_bitwidth value -m_axi_max_write_burst_length value
  -m_axi_min_bitwidth value -m_axi_num_read_outstanding value -m_axi_num_write_outstanding value
  -m_axi_offset {off direct slave} -register_reset_num value -s_axilite_auto_restart_counter value
  -s_axilite_data64 flag -s_axilite_mailbox value -s_axilite_status_regs value
} 0 0 {
  hls_need solution
  foreach o {-m_axi_alignment_byte_size -m_axi_max_widen_bitwidth} {
    set v [standin_opt $opts $o]
    if {$v ne "" && !([string is integer -strict $v] && $v > 0 && ($v & ($v - 1)) == 0)} { standin_fail "config_interface: $o must be a power of two, not $v" }
  }
}

proc hls_ready {what} {
  hls_need solution
  foreach k {part clock top} {
    if {[dict get $::hls $k] eq ""} { standin_fail "$what: no $k set" }
  }
  if {[llength [dict get $::hls sources]] == 0} { standin_fail "$what: no source files" }
}

standin_define csim_design {-O flag -argv value -clean flag -compiler {gcc clang} -ldflags value -mflags value -profile flag -setup flag -code_analyzer flag} 0 0 {
  hls_ready csim_design
  if {[llength [dict get $::hls tb]] == 0} { standin_fail "csim_design: no testbench files" }
}

standin_define csynth_design {-dump_cfg flag -dump_post_cfg flag -synthesis_check flag} 0 0 {
  hls_ready csynth_design
  set rep [file join [hls_soldir] syn report]
  file mkdir $rep
  set src [standin_env STANDIN_CSYNTH_XML]
  if {$src ne ""} { file copy -force $src [file join $rep csynth.xml] } else {
    set f [open [file join $rep csynth.xml] w]; puts $f "<profile/>"; close $f
  }
}

standin_define cosim_design {
  -O flag -argv value -compiled_library_dir value -coverage flag -disable_binary_tv flag
  -disable_deadlock_detection flag -disable_dependency_check flag -enable_dataflow_profiling flag
  -enable_fifo_sizing flag -enable_tasks_with_m_axi flag -hwemu_trace_dir value -ldflags value
  -mflags value -random_stall flag -rtl {verilog vhdl} -setup flag -stable_axilite_update flag
  -tool {auto vcs modelsim riviera isim xsim ncsim xceligen questa}
  -trace_level {none all port port_hier} -user_stall value -wave_debug flag
} 0 0 {
  hls_ready cosim_design
  if {![file isdirectory [file join [hls_soldir] syn]]} { standin_fail "cosim_design: the solution is not synthesised" }
  if {[llength [dict get $::hls tb]] == 0} { standin_fail "cosim_design: no testbench files" }
  set rep [file join [hls_soldir] sim report]
  file mkdir $rep
  set src [standin_env STANDIN_COSIM_RPT]
  if {$src ne ""} { file copy -force $src [file join $rep "[dict get $::hls top]_cosim.rpt"] }
}

standin_define export_design {
  -description value -display_name value -flow {none syn impl} -format {ip_catalog xo syn_dcp sysgen}
  -ipname value -library value -output value -rtl {verilog vhdl} -taxonomy value -vendor value -version value
} 0 0 {
  hls_need solution
  if {![file isdirectory [file join [hls_soldir] syn]]} { standin_fail "export_design: the solution is not synthesised" }
  set version [standin_opt $opts -version 1.0]
  if {![regexp {^[0-9]+\.[0-9]+$} $version]} { standin_fail "export_design: -version must be like 1.0, not $version" }
  set vlnv "[standin_opt $opts -vendor xilinx.com]:[standin_opt $opts -library hls]:[standin_opt $opts -ipname [dict get $::hls top]]:$version"
  set ip [file join [hls_soldir] impl ip]
  file mkdir $ip
  set f [open [file join $ip component.xml] w]
  puts $f $vlnv
  close $f
}

standin_define close_project {} 0 0 {
  dict set ::hls project ""
  dict set ::hls solution ""
}

if {$argc != 1} {
  puts stderr "usage: tclsh vitis_hls.tcl SCRIPT"
  exit 64
}
standin_run_script [lindex $argv 0]
